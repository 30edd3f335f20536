"""The shapes of the studio's models API: versions, comparisons, training runs (issue 16)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool, constr

from handoff_console.schemas.base import ApiModel, Timestamp

__all__ = [
    "ActivateBody",
    "ActiveModelView",
    "Comparison",
    "ModelHistory",
    "ModelList",
    "ModelVersionView",
    "TrainBody",
    "TrainingRunView",
]

Version = constr(regex=r"^v\d+$")


class ActiveModelView(ApiModel):
    """Which version is live as last recorded, and which one a roll back restores."""

    version: str = Field(example="v3")
    activated_at: Timestamp
    activated_by: str
    how: Literal["activate", "override", "rollback", "launcher"]
    previous: str | None = Field(description="the version a roll back restores")


class ModelVersionView(ApiModel):
    """One trained model version."""

    id: int = Field(description="the version's number (v3 is 3)")
    version: str = Field(example="v3")
    created_at: Timestamp
    source: Literal["studio", "cli", "launcher"]
    created_by: str | None
    data_hash: str = Field(description="hash of the training inputs it was trained on")
    evaluated: bool
    macro_f1: float | None = Field(description="cross-validated macro F1 of intents and topics")
    live: bool = Field(description="the Rasa server is running it now")
    active: bool = Field(description="recorded as the active version")


class ModelList(ApiModel):
    """Every version, newest first, with the live and active ones."""

    items: list[ModelVersionView]
    active: ActiveModelView | None
    live_model_file: str | None = Field(description="the model file Rasa reports running")
    rasa_reachable: bool
    running_run: int | None = Field(description="the id of the training run going on, if any")


class ModelHistory(ApiModel):
    """The assistant's model for analytics: the live version and every activation."""

    live_version: str | None = Field(description="the registry version Rasa runs now")
    live_model_file: str | None
    active: ActiveModelView | None
    activations: list[ActiveModelView] = Field(description="oldest first")


class IntentRow(ApiModel):
    """One intent or FAQ topic's cross-validated F1 in each version."""

    label: str
    support: int
    live_support: int | None
    new_f1: float | None
    live_f1: float | None
    delta: float | None
    regressed: bool
    added: bool
    removed: bool


class Confusion(ApiModel):
    """How often messages of one label were taken for another."""

    truth: str
    predicted: str
    count: int


class HeldOutMessage(ApiModel):
    """A held-out inbox message and what each model made of it."""

    text: str
    label: str
    new_predicted: str
    new_passed: bool
    live_predicted: str | None
    live_passed: bool | None


class HeldOut(ApiModel):
    """The held-out share of the inbox-labelled messages."""

    count: int
    baseline: str | None = Field(description="the version the messages were also scored with")
    new_accuracy: float | None
    live_accuracy: float | None
    now_pass: int = Field(description="messages the new model gets right and the live one not")
    now_fail: int
    messages: list[HeldOutMessage]


class Comparison(ApiModel):
    """A version side by side with the live one, and whether activation is blocked."""

    version: str
    live_version: str | None
    tolerance: float
    macro_f1: dict[str, float | None]
    intents: list[IntentRow]
    confusions: dict[str, list[Confusion]]
    held_out: HeldOut
    regressions: list[str]
    blocked: bool
    notes: list[str]

    @classmethod
    def of(cls, comparison: dict[str, Any]) -> dict[str, Any]:
        """The JSON of :func:`handoff_console.studio.models.comparison.compare`'s result."""
        return cls.view(**comparison)


class TrainingRunView(ApiModel):
    """A training run: its progress while it goes, its version or error when done."""

    id: int
    status: Literal["running", "succeeded", "failed", "interrupted"]
    phase: str = Field(description="starting, prepare, train, evaluate, register or done")
    fraction: float = Field(description="0 to 1")
    message: str
    steps: list[str] = Field(description="the latest progress messages, oldest first")
    started_by: str
    started_at: Timestamp
    finished_at: Timestamp | None
    evaluate: bool
    baseline: str | None = Field(description="the live version it is compared with")
    held_out: int = Field(description="labelled inbox messages held out of training")
    version: str | None
    error: str | None


class TrainBody(ApiModel):
    """Start a training run."""

    evaluate: StrictBool = Field(True, description="cross-validate and score held-out messages")


class ActivateBody(ApiModel):
    """Make a version live."""

    override: StrictBool = Field(False, description="go live despite regressions (audited)")
    reason: constr(strip_whitespace=True, max_length=500) = Field(  # type: ignore[valid-type]
        "", description="why the regressions are acceptable; required with override"
    )
