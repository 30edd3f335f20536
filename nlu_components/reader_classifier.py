"""One calibrated linear classifier for intents and FAQ topics, as a Rasa 3.6 component.

:class:`ReaderIntentClassifier` replaces both ``DIETClassifier`` (intents) and
``ResponseSelector`` (``faq/<topic>``). It reads the sentence embedding that
:class:`~nlu_components.sentence_embeddings.SentenceEmbeddingFeaturizer` put on the
message (so the encoder runs once per message), adds its own word and char n-gram
tf-idf (:mod:`nlu_components.text_features`), and scores every label with one
multinomial logistic regression:

- labels are the plain intents and the retrieval labels (``faq/wifi``, ...);
- the intent confidence of ``faq`` is the sum of its topics' probabilities, and the
  ``response_selector`` output names the best topic, in the same shape as Rasa's
  ``ResponseSelector``, so ``utter_faq``, ``rasa test nlu`` and the actions work
  unchanged;
- the scores are divided by a temperature learned on out-of-fold predictions
  (:mod:`nlu_components.calibration`), so ``FallbackClassifier`` thresholds mean
  what they say.

Training takes seconds (:mod:`nlu_components.linear_model` fits the model). The model
persists as JSON and a ``.npz`` of plain arrays.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_DEFAULT_INTENT,
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.linear_model import LinearModel, fit_linear_model
from nlu_components.sentence_embeddings import SentenceEmbeddingFeaturizer
from nlu_components.softmax_regression import SoftmaxRegression
from nlu_components.text_features import NgramFeatures

__all__ = ["ReaderIntentClassifier"]

logger = logging.getLogger(__name__)

_STATE_FILE = "state.json"
_WEIGHTS_FILE = "weights.npz"


def _label_of(example: Message) -> str:
    return str(example.get(INTENT_RESPONSE_KEY) or example.get(INTENT))


def _sentence_embeddings(messages: list[Message]) -> np.ndarray:
    rows = []
    for message in messages:
        _, sentence = message.get_dense_features(TEXT)
        if sentence is None:
            raise InvalidConfigException(
                "ReaderIntentClassifier needs sentence embeddings: put "
                "SentenceEmbeddingFeaturizer before it in the pipeline."
            )
        rows.append(np.asarray(sentence.features, dtype=np.float32).reshape(-1))
    return np.vstack(rows)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ReaderIntentClassifier(GraphComponent, IntentClassifier):
    """Calibrated logistic regression over sentence embeddings and n-grams.

    Config options:
        C: Inverse regularisation strength of the logistic regression.
        embedding_weight: Scale of the embedding block against the n-gram blocks.
        word_ngram_max, char_ngram_min, char_ngram_max: The n-gram ranges.
        min_df: Keep n-grams seen in at least this many training examples.
        calibration_folds: Folds for learning the temperature (0 or 1: none).
        max_iter: Solver iterations.
        ranking_length: How many intents and topics to report in the rankings.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """The sentence encoder must run first."""
        return [SentenceEmbeddingFeaturizer]

    @staticmethod
    def required_packages() -> list[str]:
        """Return the extra Python packages this component needs."""
        return ["sklearn", "scipy"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the component's default config (measured in docs/benchmarks.md)."""
        return {
            "C": 16.0,
            "embedding_weight": 2.0,
            "word_ngram_max": 2,
            "char_ngram_min": 2,
            "char_ngram_max": 5,
            "min_df": 2,
            "calibration_folds": 3,
            "max_iter": 1000,
            "ranking_length": 10,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Reject option values that cannot train.

        Raises:
            InvalidConfigException: On a non-positive C or an empty n-gram range.
        """
        if float(config.get("C", 1.0)) <= 0:
            raise InvalidConfigException("ReaderIntentClassifier: C must be > 0.")
        if int(config.get("char_ngram_min", 1)) > int(config.get("char_ngram_max", 1)):
            raise InvalidConfigException(
                "ReaderIntentClassifier: char_ngram_min must not exceed char_ngram_max."
            )

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LinearModel | None = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
        retrieval_intents: list[str] | None = None,
    ) -> None:
        """Create the component; ``model`` is ``None`` until it is trained."""
        self.component_config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.model = model
        self.responses = responses or {}
        self.retrieval_intents = retrieval_intents or []

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ReaderIntentClassifier:
        """Create an untrained component."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the n-grams, the logistic regression and the temperature; persist them.

        Args:
            training_data: Featurized NLU data (sentence embeddings on every example).

        Returns:
            The resource the model was written to.
        """
        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        if not examples:
            logger.warning("ReaderIntentClassifier: no intent examples; nothing trained.")
            return self._resource
        texts = [str(e.get(TEXT)) for e in examples]
        labels = [_label_of(e) for e in examples]
        embeddings = _sentence_embeddings(examples)
        config = self.component_config
        names = sorted(set(labels))
        if len(names) < 2:
            raise InvalidConfigException("ReaderIntentClassifier needs at least two intents.")
        truth = np.array([names.index(label) for label in labels])
        self.model = fit_linear_model(embeddings, texts, truth, names, config)
        self.retrieval_intents = sorted(training_data.retrieval_intents)
        self.responses = {
            key: list(value)
            for key, value in training_data.responses.items()
            if key.split("/")[0] in {f"utter_{r}" for r in self.retrieval_intents}
        }
        logger.info(
            "ReaderIntentClassifier: %d examples, %d labels, temperature %.2f",
            len(texts), len(self.model.labels), self.model.temperature,
        )  # fmt: skip
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Write the model as JSON and plain arrays (no pickles)."""
        if self.model is None:
            return
        with self._storage.write_to(self._resource) as directory:
            state = {
                "labels": self.model.labels,
                "temperature": self.model.temperature,
                "embedding_weight": self.model.embedding_weight,
                "ngrams": self.model.ngrams.to_json(),
                "responses": self.responses,
                "retrieval_intents": self.retrieval_intents,
            }
            (directory / _STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
            regression = self.model.regression
            np.savez(
                directory / _WEIGHTS_FILE,
                dense_coef=regression.dense_coef,
                sparse_coef=regression.sparse_coef,
                intercept=regression.intercept,
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ReaderIntentClassifier:
        """Load a trained component, or an untrained one when nothing was persisted."""
        try:
            with model_storage.read_from(resource) as directory:
                state = json.loads((directory / _STATE_FILE).read_text(encoding="utf-8"))
                with np.load(directory / _WEIGHTS_FILE, allow_pickle=False) as weights:
                    regression = SoftmaxRegression(
                        weights["dense_coef"], weights["sparse_coef"], weights["intercept"], 0
                    )
        except (ValueError, FileNotFoundError):
            logger.debug("ReaderIntentClassifier: no trained model in %s", resource.name)
            return cls(config, model_storage, resource)
        model = LinearModel(
            NgramFeatures.from_json(state["ngrams"]),
            regression,
            list(state["labels"]),
            float(state["temperature"]),
            float(state["embedding_weight"]),
        )
        return cls(
            config,
            model_storage,
            resource,
            model,
            state["responses"],
            list(state["retrieval_intents"]),
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Set ``intent``, ``intent_ranking`` and ``response_selector`` on each message.

        Args:
            messages: Featurized messages.

        Returns:
            The same messages.
        """
        if self.model is None:
            return messages
        scored = [m for m in messages if (m.get(TEXT) or "").strip()]
        scored_ids = {id(m) for m in scored}
        for message in messages:
            if id(message) not in scored_ids:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        if not scored:
            return messages
        texts = [str(m.get(TEXT)) for m in scored]
        rows = self.model.predict_proba(_sentence_embeddings(scored), texts)
        for message, row in zip(scored, rows, strict=True):
            self._annotate(message, row)
        return messages

    def _annotate(self, message: Message, row: np.ndarray) -> None:
        limit = int(self.component_config["ranking_length"]) or len(row)
        by_intent: dict[str, float] = {}
        topics: list[tuple[str, float]] = []
        for label, probability in zip(self.model.labels if self.model else [], row, strict=True):
            intent = label.split("/", 1)[0]
            by_intent[intent] = by_intent.get(intent, 0.0) + float(probability)
            if "/" in label:
                topics.append((label, float(probability)))
        ranking = sorted(by_intent.items(), key=lambda item: -item[1])[:limit]
        top = {INTENT_NAME_KEY: ranking[0][0], PREDICTED_CONFIDENCE_KEY: ranking[0][1]}
        message.set(INTENT, top, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY,
            [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: p} for n, p in ranking],
            add_to_output=True,
        )
        if topics:
            message.set(
                RESPONSE_SELECTOR_PROPERTY_NAME,
                self._selector_output(topics, limit),
                add_to_output=True,
            )

    def _selector_output(self, topics: list[tuple[str, float]], limit: int) -> dict[str, Any]:
        """The ``response_selector`` parse data, shaped as Rasa's ResponseSelector makes it.

        Besides the ``default`` key (every topic), each retrieval intent gets a key of its
        own (``faq``), so Rasa fills ``full_retrieval_intent_name`` (``faq/wifi``) in the
        parse data and the reader store can count FAQ topics.
        """
        output: dict[str, Any] = {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: self.retrieval_intents}
        output[RESPONSE_SELECTOR_DEFAULT_INTENT] = self._prediction(topics, limit)
        for retrieval_intent in self.retrieval_intents:
            own = [(k, p) for k, p in topics if k.split("/", 1)[0] == retrieval_intent]
            if own:
                output[retrieval_intent] = self._prediction(own, limit)
        return output

    def _prediction(self, topics: list[tuple[str, float]], limit: int) -> dict[str, Any]:
        total = sum(p for _, p in topics) or 1.0
        ranked = sorted(((k, p / total) for k, p in topics), key=lambda item: -item[1])
        best, confidence = ranked[0]
        utter = f"utter_{best}"
        return {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(utter) or [{TEXT: best}],
                PREDICTED_CONFIDENCE_KEY: confidence,
                INTENT_RESPONSE_KEY: best,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {PREDICTED_CONFIDENCE_KEY: p, INTENT_RESPONSE_KEY: k} for k, p in ranked[:limit]
            ],
        }
