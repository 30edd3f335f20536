"""The calibrated intent and FAQ classifier: its parts, and the component trained and reloaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression

from nlu_components.calibration import expected_calibration_error, fit_temperature
from nlu_components.reader_classifier import ReaderIntentClassifier
from nlu_components.sentence_embeddings import SentenceEmbeddingFeaturizer
from nlu_components.softmax_regression import fit_softmax_regression
from nlu_components.text_features import NgramFeatures, normalise_for_ngrams, word_tokens


def test_words_split_cjk_characters_and_digits_become_zero() -> None:
    assert word_tokens(normalise_for_ngrams("我想续借 Card 2123")) == [
        "我",
        "想",
        "续",
        "借",
        "card",
        "0000",
    ]


def test_ngram_features_survive_a_json_round_trip() -> None:
    texts = ["renew my books", "is the wifi free", "wifi password please", "renew loans"]
    fitted = NgramFeatures(min_df=1).fit(texts)
    restored = NgramFeatures.from_json(fitted.to_json())
    probe = ["renew the wifi", "我想续借我的书"]
    assert (fitted.transform(probe) != restored.transform(probe)).nnz == 0
    assert fitted.transform(probe).shape == restored.transform(probe).shape


def test_softmax_regression_matches_scikit_learn_on_the_same_objective() -> None:
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(90, 4))
    sparse = csr_matrix(rng.binomial(1, 0.2, size=(90, 6)).astype(float))
    truth = np.argmax(dense[:, :3] + rng.normal(scale=0.5, size=(90, 3)), axis=1)
    ours = fit_softmax_regression(dense, sparse, truth, 3, c=2.0, tol=1e-7)
    theirs = LogisticRegression(C=2.0, tol=1e-10, max_iter=5000).fit(
        np.hstack([dense, sparse.toarray()]), truth
    )
    ours_proba = softmax(ours.scores(dense, sparse), axis=1)
    assert (
        np.abs(ours_proba - theirs.predict_proba(np.hstack([dense, sparse.toarray()]))).max() < 1e-3
    )


def test_temperature_undoes_a_known_overconfidence() -> None:
    rng = np.random.default_rng(1)
    true_logits = rng.normal(scale=2.0, size=(4000, 5))
    truth = np.array([rng.choice(5, p=p) for p in softmax(true_logits, axis=1)])
    temperature = fit_temperature(true_logits * 3.0, truth)  # scores 3x too sharp
    assert abs(temperature - 3.0) < 0.3
    calibrated = softmax(true_logits * 3.0 / temperature, axis=1)
    sharp = softmax(true_logits * 3.0, axis=1)
    correct = calibrated.argmax(1) == truth
    assert expected_calibration_error(calibrated.max(1), correct) < 0.03
    assert expected_calibration_error(sharp.max(1), correct) > 0.1


TRAINING = {
    "renew_loans": [
        "renew my books", "can i renew my loans", "extend my due date",
        "more time on my books", "renew everything i have out", "push back the due date please",
    ],
    "library_hours": [
        "when do you open", "what time do you close", "opening hours today",
        "are you open on sunday", "closing time tonight", "what are your hours",
    ],
    "faq/wifi": [
        "is there wifi", "wifi password", "can i get online with my laptop",
        "internet access", "how do i connect to the wifi", "is the wireless free",
    ],
    "faq/printing": [
        "can i print", "how much is printing", "print from my phone",
        "printer prices", "where is the printer", "colour printing cost",
    ],
}  # fmt: skip


def _message(text: str, label: str | None = None) -> Message:
    data: dict[str, str] = {"text": text}
    if label:
        intent, _, topic = label.partition("/")
        data["intent"] = intent
        if topic:
            data["intent_response_key"] = label
    return Message(data=data)


@pytest.fixture(scope="module")
def featurize(featurizer: SentenceEmbeddingFeaturizer, tokenizer: WhitespaceTokenizer):
    def run(messages: list[Message]) -> list[Message]:
        tokenizer.process(messages)
        return featurizer.process(messages)

    return run


def test_trained_component_classifies_reloads_and_fills_the_response_selector(
    tmp_path: Path, featurize
) -> None:
    examples = [_message(t, label) for label, texts in TRAINING.items() for t in texts]
    responses = {
        "utter_faq/wifi": [{"text": "Wifi is free."}],
        "utter_faq/printing": [{"text": "10p."}],
    }
    data = TrainingData(training_examples=featurize(examples), responses=responses)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("classifier")
    context = ExecutionContext(GraphSchema({}), node_name="classifier")
    config = {**ReaderIntentClassifier.get_default_config(), "min_df": 1, "calibration_folds": 3}
    trained = ReaderIntentClassifier.create(config, storage, resource, context)
    trained.train(data)
    loaded = ReaderIntentClassifier.load(config, storage, resource, context)

    probes = featurize(
        [_message("wifi password please"), _message("could i renew my books"), _message("")]
    )
    loaded.process(probes)
    wifi, renew, empty = (m.as_dict(only_output_properties=True) for m in probes)
    assert wifi["intent"]["name"] == "faq"
    assert wifi["response_selector"]["faq"]["response"]["intent_response_key"] == "faq/wifi"
    assert wifi["response_selector"]["default"]["response"]["utter_action"] == "utter_faq/wifi"
    assert wifi["response_selector"]["faq"]["response"]["responses"] == [{"text": "Wifi is free."}]
    assert wifi["response_selector"]["all_retrieval_intents"] == ["faq"]
    assert renew["intent"]["name"] == "renew_loans"
    assert [r["name"] for r in renew["intent_ranking"]][:1] == ["renew_loans"]
    assert sorted(r["name"] for r in renew["intent_ranking"]) == [
        "faq",
        "library_hours",
        "renew_loans",
    ]
    assert abs(sum(r["confidence"] for r in renew["intent_ranking"]) - 1.0) < 1e-6
    assert empty["intent"] == {"name": None, "confidence": 0.0}


def test_missing_embeddings_are_a_configuration_error(tmp_path: Path) -> None:
    from rasa.shared.exceptions import InvalidConfigException

    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="classifier")
    component = ReaderIntentClassifier.create({}, storage, Resource("c"), context)
    data = TrainingData(
        training_examples=[_message("renew", "renew_loans"), _message("hours", "library_hours")]
    )
    with pytest.raises(InvalidConfigException, match="SentenceEmbeddingFeaturizer"):
        component.train(data)
