"""Custom Rasa NLU components for the reader interaction center.

Import the component you need from its module (Rasa does this from ``config.yml``):

- ``nlu_components.multi_request.MultiRequestDetector``: several requests in one message;
- ``nlu_components.language_guard.LanguageGuard``: non-English messages;
- ``nlu_components.sentence_embeddings.SentenceEmbeddingFeaturizer``: sentence-transformers
  features (evaluated, not shipped; see docs/benchmarks.md).

Nothing is imported here, so loading one component never loads torch.
"""

from __future__ import annotations

__all__: list[str] = []
