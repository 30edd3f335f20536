"""SentenceEmbeddingFeaturizer: features on messages, semantic geometry, offline use, training."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.sentence_embeddings import (
    EMBEDDING_DIMENSION,
    SentenceEmbeddingFeaturizer,
    load_sentence_model,
    packaged_model_path,
)
from tests.aio import run as aio_run


def _featurize(
    featurizer: SentenceEmbeddingFeaturizer, tokenizer: WhitespaceTokenizer, *texts: str
) -> list[Message]:
    messages = [Message(data={TEXT: text}) for text in texts]
    tokenizer.process(messages)
    return featurizer.process(messages)


def _sentence_vector(message: Message) -> np.ndarray:
    features = [
        f for f in message.features if f.type == FEATURE_TYPE_SENTENCE and f.attribute == TEXT
    ]
    assert len(features) == 1
    return np.asarray(features[0].features)


def test_adds_384_dimensional_sentence_features(featurizer, tokenizer):
    (message,) = _featurize(featurizer, tokenizer, "renew my books")

    _, sentence = message.get_dense_features(TEXT)

    assert sentence is not None
    assert sentence.features.shape == (1, EMBEDDING_DIMENSION)
    assert [f.origin for f in message.features] == ["sentence_embeddings"]
    assert np.linalg.norm(sentence.features) == pytest.approx(1.0, abs=1e-5)
    # Default: sentence-level only, so token sequences are left to the other featurizers.
    assert [f.type for f in message.features] == [FEATURE_TYPE_SENTENCE]


def test_repeat_mode_adds_one_row_per_token(tokenizer):
    context = ExecutionContext(GraphSchema({}), node_name="repeat")
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "sequence_features": "repeat"}
    featurizer = SentenceEmbeddingFeaturizer.create(config, None, None, context)  # type: ignore[arg-type]

    (message,) = _featurize(featurizer, tokenizer, "can i extend my loans")

    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is not None and sentence is not None
    assert sequence.type == FEATURE_TYPE_SEQUENCE
    assert sequence.features.shape == (5, EMBEDDING_DIMENSION)
    np.testing.assert_allclose(sequence.features[3], sentence.features[0])


def test_batched_encoding_matches_single_encoding(featurizer, tokenizer):
    texts = ("renew my books", "where can i park", "hi")
    batched = [_sentence_vector(m) for m in _featurize(featurizer, tokenizer, *texts)]
    single = [_sentence_vector(_featurize(featurizer, tokenizer, t)[0]) for t in texts]

    for a, b in zip(batched, single, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_similar_sentences_are_closer_than_unrelated_ones(featurizer, tokenizer):
    renew, extend, park = (
        _sentence_vector(m)
        for m in _featurize(
            featurizer, tokenizer, "renew my books", "can i extend my loans", "where can i park"
        )
    )

    related = float(renew @ extend.T)
    unrelated_a = float(renew @ park.T)
    unrelated_b = float(extend @ park.T)

    assert related > unrelated_a
    assert related > unrelated_b


def test_untokenized_attributes_get_no_features(featurizer):
    message = Message(data={TEXT: "renew my books"})  # no tokenizer ran

    featurizer.process([message])

    assert message.features == []


def test_model_loads_offline_from_the_package():
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    path = Path(packaged_model_path())
    assert (path / "model.safetensors").is_file()
    assert "site-packages" in path.parts

    model = load_sentence_model()

    assert model is load_sentence_model()  # cached once per process
    assert model.encode(["hello"]).shape == (1, EMBEDDING_DIMENSION)


def test_processes_training_data_in_place(featurizer, tokenizer):
    data = TrainingData([Message(data={TEXT: "renew my books", "intent": "renew"})])
    tokenizer.process_training_data(data)

    result = featurizer.process_training_data(data)

    assert result is data
    _, sentence = data.training_examples[0].get_dense_features(TEXT)
    assert sentence is not None
    assert sentence.features.shape == (1, EMBEDDING_DIMENSION)


NLU_DATA = """\
version: "3.1"
nlu:
- intent: renew
  examples: |
    - renew my books
    - can i extend my loans
    - please renew the book i borrowed
    - i need more time with my loans
    - extend the due date of my items
    - renew everything i have checked out
- intent: parking
  examples: |
    - where can i park
    - is there a car park at the library
    - parking near the branch
    - can i leave my car outside
    - do you have bike racks
    - where do visitors park
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - hey
    - good evening
    - hello library
"""

TINY_CONFIG = """\
recipe: default.v1
language: en
assistant_id: sentence-embedding-test
pipeline:
  - name: WhitespaceTokenizer
  # The only featurizer, so it must also give DIET its (required) sequence features.
  - name: nlu_components.sentence_embeddings.SentenceEmbeddingFeaturizer
    sequence_features: repeat
  - name: DIETClassifier
    epochs: 30
    number_of_transformer_layers: 0
    constrain_similarities: true
policies: []
"""


def test_train_and_parse_tiny_nlu_model(tmp_path, monkeypatch):
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    (tmp_path / "nlu.yml").write_text(NLU_DATA)
    (tmp_path / "config.yml").write_text(TINY_CONFIG)
    (tmp_path / "domain.yml").write_text(
        textwrap.dedent(
            """\
            version: "3.1"
            intents: [renew, parking, greet]
            """
        )
    )

    model_path = train_nlu(
        str(tmp_path / "config.yml"),
        str(tmp_path / "nlu.yml"),
        str(tmp_path / "models"),
        domain=str(tmp_path / "domain.yml"),
    )
    assert model_path is not None

    agent = Agent.load(model_path)
    parsed = aio_run(agent.parse_message("could I extend the loan on my novel"))

    assert parsed["intent"]["name"] == "renew"


def test_direct_mean_pooling_equals_sentence_transformers_encode():
    from nlu_components.sentence_embeddings import (
        is_mean_pooled_transformer,
        load_sentence_model,
        mean_pooled_encode,
    )

    model = load_sentence_model()
    texts = ["is the wifi free", "have you Cry, the Beloved Country by A. Paton?", "我想续借", "x"]
    assert is_mean_pooled_transformer(model)
    ours = mean_pooled_encode(model, texts, normalize=True)
    theirs = model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    assert ours.shape == (4, 384)
    assert float(abs(ours - theirs).max()) < 1e-5
