"""The shapes of the admin studio's training-data editor (issue 16)."""

from __future__ import annotations

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Timestamp

__all__ = [
    "Button",
    "ChangedFile",
    "Changes",
    "DiscardBody",
    "Discarded",
    "Example",
    "ExampleIn",
    "ExamplesBody",
    "FileBody",
    "FileSaved",
    "IntentDetail",
    "IntentSaved",
    "IntentSummary",
    "MoveBody",
    "NewIntent",
    "NewResponse",
    "RenameBody",
    "ResponseBody",
    "ResponseDetail",
    "ResponseSaved",
    "ResponseSummary",
    "StudioAuditEntry",
    "TrainingOverview",
    "Variation",
    "VariationIn",
    "YamlFile",
]

VERSION = Field(description="The version (etag) the edit starts from; a stale one is a 409")
SAVED_FILES = Field(description="The YAML files the save changed (project-relative)")
WARNINGS = Field(description="Rasa's advice about the change (not a reason to refuse it)")


class IntentSummary(ApiModel):
    """An intent or FAQ topic in the list."""

    name: str = Field(example="faq/wifi")
    kind: str = Field(description="intent or faq")
    examples: int = Field(description="How many training examples it has")
    files: list[str]


class TrainingOverview(ApiModel):
    """Every intent and FAQ topic, the domain's entities and the project's files."""

    intents: list[IntentSummary]
    entities: list[str] = Field(description="Entities an example may mark: [text](entity)")
    nlu_files: list[str]
    files: list[str] = Field(description="Every YAML file the raw editor may open")
    checks_ready: bool = Field(
        description="Whether Rasa's checks of the current data are done (the first save "
        "after a start waits for them)"
    )


class Button(ApiModel):
    """A button under a response."""

    title: str = Field(max_length=64)
    payload: str = Field(max_length=200, description="/intent, /intent{...} or text")


class Variation(ApiModel):
    """One variation of a response, as the editor shows it."""

    text: str
    buttons: list[Button]
    channel: str | None = Field(description="Only on this channel (telegram, slack…)")
    other_keys: list[str] = Field(description="Keys the editor keeps but does not edit")


class ResponseDetail(ApiModel):
    """A response (``utter_*`` or an FAQ answer ``utter_faq/<topic>``) and its variations."""

    name: str = Field(example="utter_greet")
    file: str
    version: str
    variations: list[Variation]


class ResponseSaved(ResponseDetail):
    """A response after a save."""

    files: list[str] = SAVED_FILES
    warnings: list[str] = WARNINGS


class ResponseSummary(ApiModel):
    """A response in the list."""

    name: str
    file: str
    variations: int
    text: str = Field(description="The first variation's text")


class Example(ApiModel):
    """A training example and the file it is written in."""

    text: str = Field(example="is the [central](branch) wifi free")
    file: str


class IntentDetail(ApiModel):
    """One intent or FAQ topic: its examples, version and (FAQ topic) answer."""

    name: str
    kind: str
    version: str
    examples: list[Example]
    entities: list[str]
    nlu_files: list[str]
    renamable: bool = Field(description="False for the names the actions and reports rely on")
    answer: ResponseDetail | None = Field(description="An FAQ topic's utter_faq/<topic>")


class IntentSaved(IntentDetail):
    """An intent after a save."""

    files: list[str] = SAVED_FILES
    warnings: list[str] = WARNINGS


class ExampleIn(ApiModel):
    """An example to keep or add; ``file`` null puts a new one in the intent's first file."""

    text: str = Field(max_length=300)
    file: str | None = None


class ExamplesBody(ApiModel):
    """An intent's examples, replaced whole: add, edit, delete and reorder in one save."""

    version: str = VERSION
    examples: list[ExampleIn] = Field(min_items=1, max_items=5000)


class MoveBody(ApiModel):
    """Examples to move to another intent or FAQ topic."""

    version: str = VERSION
    examples: list[str] = Field(min_items=1, max_items=1000)
    to: str = Field(description="The intent or FAQ topic that receives them")
    to_version: str = Field(description="The receiving intent's version")


class RenameBody(ApiModel):
    """A new name for an intent (``snake_case``) or FAQ topic (``faq/<topic>``)."""

    version: str = VERSION
    new_name: str = Field(max_length=70)


class NewIntent(ApiModel):
    """A new intent, or a new FAQ topic (``faq/<topic>``) with its answer."""

    name: str = Field(max_length=70, example="faq/museum_passes")
    examples: list[str] = Field(min_items=1, max_items=1000)
    file: str | None = Field(None, description="data/nlu/<file>.yml; a new one is created")
    answer: str | None = Field(
        None,
        max_length=2000,
        description="Required for an FAQ topic; for an intent it makes utter_<name> and a rule",
    )


class VariationIn(ApiModel):
    """A variation as written: text, buttons and optionally a channel."""

    text: str = Field(max_length=2000)
    buttons: list[Button] = Field(default_factory=list, max_items=10)
    channel: str | None = None
    other_keys: list[str] | None = Field(
        None, description="Ignored (as read): such keys are kept as they are"
    )


class ResponseBody(ApiModel):
    """A response's variations, replaced whole."""

    version: str = VERSION
    variations: list[VariationIn] = Field(min_items=1, max_items=50)


class NewResponse(ApiModel):
    """A new response ``utter_<name>`` or ``utter_faq/<topic>``."""

    name: str = Field(max_length=80)
    variations: list[VariationIn] = Field(min_items=1, max_items=50)


class YamlFile(ApiModel):
    """One YAML file of the training data, for the raw editor."""

    path: str = Field(example="data/nlu/faq_services.yml")
    version: str
    content: str


class FileSaved(YamlFile):
    """A YAML file after a save."""

    files: list[str] = SAVED_FILES
    warnings: list[str] = WARNINGS


class FileBody(ApiModel):
    """A YAML file's new text."""

    version: str = VERSION
    content: str = Field(max_length=2_000_000)


class ChangedFile(ApiModel):
    """A file that differs from the baseline."""

    path: str
    status: str = Field(description="added, modified or deleted")
    added_lines: int
    removed_lines: int
    diff: str = Field(description="Its unified diff")


class Changes(ApiModel):
    """The pending changes of the training data."""

    baseline: str = Field(description="What they are compared with: git HEAD or a snapshot")
    files: list[ChangedFile]


class DiscardBody(ApiModel):
    """The files to put back as in the baseline; all changed files when left out."""

    paths: list[str] | None = Field(None, max_items=1000)


class Discarded(ApiModel):
    """What a discard put back, and what is still pending."""

    discarded: list[str]
    pending: list[str]
    files: list[str] = SAVED_FILES
    warnings: list[str] = WARNINGS


class StudioAuditEntry(ApiModel):
    """One change to the training data, from the audit log."""

    id: int
    at: Timestamp
    by: str | None
    action: str = Field(example="studio.examples.set")
    subject: str = Field(example="intent:faq/wifi")
    files: list[str]
