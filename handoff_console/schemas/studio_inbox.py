"""The shapes of the studio's NLU inbox, FAQ candidates and intent health API (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_console.schemas.base import ApiModel, RecordId, Timestamp

__all__ = [
    "CandidateAccept",
    "CandidateDecided",
    "CandidateList",
    "CandidateView",
    "HealthReply",
    "InboxDecided",
    "InboxDecisionBody",
    "InboxGroupView",
    "InboxItemView",
    "InboxReply",
    "LabelView",
]

Reason = Literal["fallback", "low_confidence", "rephrased", "handoff_after_answer", "low_rating"]


class LabelView(ApiModel):
    """An intent or FAQ topic a message may be assigned to."""

    name: str = Field(example="faq/wifi")
    kind: Literal["intent", "faq"]


class InboxItemView(ApiModel):
    """One reader message: masked text, channel and date only, no reader identity."""

    message_id: int
    text: str = Field(description="card numbers, emails and phone numbers masked")
    channel: str
    sent_at: Timestamp
    predicted_intent: str | None = Field(description="the NLU's best guess (faq/<topic>)")
    confidence: float | None
    reasons: list[Reason]


class InboxGroupView(ApiModel):
    """Near-identical messages: one nightly cluster, or one text."""

    key: str = Field(example="cluster-12")
    label: str
    cluster_id: int | None = Field(description="the nightly question cluster, if any")
    size: int
    reasons: list[Reason]
    message_ids: list[int]
    items: list[InboxItemView]


class InboxReply(ApiModel):
    """The undecided inbox, biggest group first."""

    window_days: int
    low_confidence: float
    groups: list[InboxGroupView]
    labels: list[LabelView]


class InboxDecisionBody(ApiModel):
    """Assign messages (one, or a whole group) to a label, or mark them out of scope, or dismiss."""

    message_ids: list[RecordId] = Field(min_items=1, max_items=500)
    decision: Literal["assigned", "out_of_scope", "dismissed"]
    label: str | None = Field(description="assigned: an intent or faq/<topic>", example="faq/wifi")
    answer: str | None = Field(description="assigned to a new faq/<topic>: its answer")


class InboxDecided(ApiModel):
    """What a decision recorded and wrote into the training data."""

    decision: str
    label: str | None
    decided: int = Field(description="messages decided")
    added: list[str] = Field(description="examples written into the training data")
    files: list[str] = Field(description="training-data files changed")
    warnings: list[str]


class CandidateView(ApiModel):
    """A librarian's answer to a handed-off question, proposed for the FAQ."""

    id: int
    status: Literal["pending", "accepted", "rejected"]
    question: str
    answer: str
    suggested_label: str | None = Field(description="an existing topic the question matched")
    suggested_score: float | None
    kind: Literal["extend", "new"]
    topic: str | None = Field(description="accepted: where it went")
    conversation_id: int
    conversation_url: str = Field(example="/conversations/12")
    handoff_id: int
    created_at: Timestamp
    decided_at: Timestamp | None
    decided_by: str | None


class CandidateList(ApiModel):
    """FAQ candidates, newest first."""

    items: list[CandidateView]
    labels: list[LabelView]


class CandidateAccept(ApiModel):
    """Accept as proposed, or edited first."""

    topic: str | None = Field(description="default: the suggestion", example="faq/museum_passes")
    question: str | None
    answer: str | None


class CandidateDecided(ApiModel):
    """The decided candidate and what was written."""

    candidate: CandidateView
    added: list[str] = Field(None, nullable=False)
    files: list[str] = Field(None, nullable=False)
    warnings: list[str] = Field(None, nullable=False)


class ConfusablePair(ApiModel):
    """Two labels whose examples the sentence encoder finds nearly the same."""

    first: str
    second: str
    pairs: int = Field(description="example pairs at or above the similarity")
    similarity: float = Field(description="the closest pair's cosine similarity")
    example: list[str] = Field(description="that pair's two texts")


class Confusion(ApiModel):
    """A confusion of the latest evaluated model's cross-validation."""

    truth: str
    predicted: str
    count: int


class ThinLabel(ApiModel):
    """A label with too few examples."""

    label: str
    examples: int


class ConflictView(ApiModel):
    """One text filed under several labels."""

    text: str
    labels: list[str]


class HealthReply(ApiModel):
    """The training data's health."""

    labels: int
    examples: int
    min_examples: int
    similarity: float
    confusable: list[ConfusablePair]
    confusions: list[Confusion]
    confusions_from: str | None = Field(description="the model version they come from")
    too_few: list[ThinLabel]
    never_hit: list[str] = Field(description="FAQ topics no reader message got in the window")
    hits: dict[str, int] = Field(description="reader messages per FAQ topic in the window")
    window_days: int
    conflicts: list[ConflictView]
