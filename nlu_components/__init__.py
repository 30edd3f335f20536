"""Custom Rasa NLU components for the reader interaction center."""

from __future__ import annotations

from nlu_components.sentence_embeddings import (
    EMBEDDING_DIMENSION,
    SentenceEmbeddingError,
    SentenceEmbeddingFeaturizer,
    SentenceModelMissingError,
    load_sentence_model,
    packaged_model_path,
)

__all__ = [
    "EMBEDDING_DIMENSION",
    "SentenceEmbeddingError",
    "SentenceEmbeddingFeaturizer",
    "SentenceModelMissingError",
    "load_sentence_model",
    "packaged_model_path",
]
