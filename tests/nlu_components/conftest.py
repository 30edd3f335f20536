"""Fixtures for the custom NLU component tests."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

from nlu_components.sentence_embeddings import SentenceEmbeddingFeaturizer


@pytest.fixture(scope="session")
def featurizer() -> SentenceEmbeddingFeaturizer:
    """A featurizer with the default config (normalised embeddings, sentence features only)."""
    context = ExecutionContext(GraphSchema({}), node_name="sentence_embeddings")
    config = {**SentenceEmbeddingFeaturizer.get_default_config()}
    return SentenceEmbeddingFeaturizer.create(config, None, None, context)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tokenizer() -> WhitespaceTokenizer:
    """Rasa's whitespace tokenizer, as in config.yml."""
    return WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
