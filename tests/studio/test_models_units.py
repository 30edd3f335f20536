"""The models part of the studio without a Rasa server: registry, held-out split, gate.

The registry is a real folder; the comparisons are fed manifests as the training job
writes them; the held-out split reads part 2's real ``nlu_inbox_labels`` table.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import (
    Conversation,
    Direction,
    InboxDecision,
    Message,
    NluInboxLabel,
    SenderKind,
)
from handoff_console.studio.models import (
    ModelRegistry,
    TrainingInputs,
    UnknownVersion,
    parse_version,
)
from handoff_console.studio.models.comparison import MIN_SUPPORT, compare
from handoff_console.studio.models.evaluation import score
from handoff_console.studio.models.heldout import (
    drop_examples,
    held_out,
    is_held_out,
    labelled_messages,
)
from handoff_console.studio.models.runs import TrainingRun

pytestmark = pytest.mark.studio


@pytest.fixture
def inputs(tmp_path: Path) -> TrainingInputs:
    """A tiny Rasa project (it is only copied and snapshotted here, never trained)."""
    bot = tmp_path / "bot"
    (bot / "data" / "nlu").mkdir(parents=True)
    (bot / "domain").mkdir()
    (tmp_path / "config.yml").write_text("language: en\n")
    (bot / "data" / "nlu" / "a.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n'
        "      - hello there\n      - Good [morning](time)\n      - hi\n"
    )
    (bot / "domain" / "core.yml").write_text('version: "3.1"\nintents:\n  - greet\n')
    return TrainingInputs(tmp_path / "config.yml", bot)


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "registry")


def _model(tmp_path: Path, name: str = "model.tar.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(b"not really a model, but a file to copy")
    return path


def _cv(labels: dict[str, tuple[float, int]], macro: float | None = None) -> dict[str, Any]:
    per_label = {
        k: {"precision": f, "recall": f, "f1": f, "support": n} for k, (f, n) in labels.items()
    }
    values = [f for f, _ in labels.values()]
    return {
        "macro_f1": macro if macro is not None else sum(values) / len(values),
        "accuracy": 0.0,
        "labels": per_label,
        "confusions": [{"truth": "a", "predicted": "b", "count": 2}],
        "folds": 3,
        "examples": sum(n for _, n in labels.values()),
        "untested_labels": [],
    }


def test_versions_are_numbered_snapshotted_and_found_by_file_name(
    registry: ModelRegistry, inputs: TrainingInputs, tmp_path: Path
) -> None:
    first = registry.add(_model(tmp_path), inputs, source="cli", data_hash="aaa", created_by="x")
    second = registry.add(_model(tmp_path), inputs, source="studio", data_hash="bbb")
    assert [v.label for v in registry.versions()] == ["v1", "v2"]
    assert (first.path.name, second.path.name) == ("v1.tar.gz", "v2.tar.gz")
    assert registry.get(2).data_hash == "bbb"
    assert registry.get(1).created_by == "x"
    assert registry.by_file_name("v2.tar.gz") == second
    assert registry.by_file_name("/somewhere/v1.tar.gz") == first
    assert registry.by_file_name("ric-0123.tar.gz") is None
    assert registry.by_file_name("v9.tar.gz") is None
    snapshot = registry.snapshot_of(1)
    assert snapshot is not None
    with tarfile.open(snapshot) as archive:
        assert sorted(archive.getnames())[:3] == ["config.yml", "data", "data/nlu"]
    unpacked = TrainingInputs.unpack(snapshot, tmp_path / "unpacked")
    assert (unpacked.data / "nlu" / "a.yml").read_text() == (
        inputs.data / "nlu" / "a.yml"
    ).read_text()
    with pytest.raises(UnknownVersion):
        registry.get(3)


def test_activation_records_previous_and_roll_back_swaps_them(
    registry: ModelRegistry, inputs: TrainingInputs, tmp_path: Path
) -> None:
    for data_hash in ("a", "b", "c"):
        registry.add(_model(tmp_path), inputs, source="studio", data_hash=data_hash)
    assert registry.active() is None
    registry.set_active(1, "launcher", "launcher")
    registry.set_active(3, "ada", "activate")
    active = registry.active()
    assert active is not None
    assert (active.number, active.previous, active.activated_by, active.how) == (
        3,
        1,
        "ada",
        "activate",
    )
    back = registry.set_active(1, "ada", "rollback")
    assert (back.number, back.previous) == (1, 3)
    again = registry.set_active(1, "ada", "activate")  # the same version again keeps previous
    assert (again.number, again.previous) == (1, 3)
    assert [(a.number, a.how) for a in registry.activations()] == [
        (1, "launcher"), (3, "activate"), (1, "rollback"), (1, "activate"),
    ]  # fmt: skip
    with pytest.raises(UnknownVersion):
        registry.set_active(7, "ada", "activate")


@pytest.mark.parametrize("text, number", [("v3", 3), ("3", 3), (" v12 ", 12)])
def test_parse_version(text: str, number: int) -> None:
    assert parse_version(text) == number


@pytest.mark.parametrize("text", ["v0", "three", "v-1", "", "v3.1"])
def test_parse_version_refuses(text: str) -> None:
    with pytest.raises(UnknownVersion):
        parse_version(text)


def test_score_per_label_f1_and_confusions() -> None:
    truth = ["greet", "greet", "faq/wifi", "faq/wifi", "bye"]
    guess = ["greet", "faq/wifi", "faq/wifi", "faq/wifi", "nlu_fallback"]
    result = score(truth, guess)
    assert result["labels"]["greet"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
        "support": 2,
    }
    assert result["labels"]["faq/wifi"]["f1"] == 0.8
    assert result["labels"]["bye"]["f1"] == 0.0
    assert result["macro_f1"] == round((2 / 3 + 0.8 + 0.0) / 3, 4)
    assert result["accuracy"] == 0.6
    assert result["confusions"] == [
        {"truth": "greet", "predicted": "faq/wifi", "count": 1},
        {"truth": "bye", "predicted": "nlu_fallback", "count": 1},
    ]


def test_compare_blocks_a_regression_beyond_the_tolerance(
    registry: ModelRegistry, inputs: TrainingInputs, tmp_path: Path
) -> None:
    live = registry.add(
        _model(tmp_path), inputs, source="studio", data_hash="a",
        evaluation={"cv": _cv({"greet": (0.9, 40), "faq/wifi": (0.9, 10), "thin": (0.9, 2)})},
    )  # fmt: skip
    fine = registry.add(
        _model(tmp_path), inputs, source="studio", data_hash="b",
        evaluation={"cv": _cv({"greet": (0.86, 40), "faq/wifi": (0.84, 10), "thin": (0.1, 2),
                               "faq/new": (1.0, 8)}, macro=0.88)},
    )  # fmt: skip
    worse = registry.add(
        _model(tmp_path), inputs, source="studio", data_hash="c",
        evaluation={"cv": _cv({"greet": (0.8, 40), "faq/wifi": (0.9, 10), "thin": (0.9, 2)})},
    )  # fmt: skip
    ok = compare(fine, live, 0.05)
    rows = {row["label"]: row for row in ok["intents"]}
    assert ok["blocked"] is False, ok["regressions"]
    assert rows["faq/new"]["added"] is True and rows["faq/new"]["live_f1"] is None
    assert rows["greet"]["delta"] == -0.04 and rows["greet"]["regressed"] is False
    assert rows["faq/wifi"]["delta"] == -0.06  # beyond the tolerance, but 2/10 is noise
    assert rows["faq/wifi"]["regressed"] is False
    assert rows["thin"]["regressed"] is False  # fewer than MIN_SUPPORT examples never block
    assert MIN_SUPPORT > 2
    bad = compare(worse, live, 0.05)
    assert bad["blocked"] is True
    assert bad["regressions"] == ["greet: F1 falls from 0.90 to 0.80"]
    assert compare(worse, live, 0.2)["blocked"] is False


def test_compare_macro_and_held_out_regressions_and_unevaluated(
    registry: ModelRegistry, inputs: TrainingInputs, tmp_path: Path
) -> None:
    live = registry.add(
        _model(tmp_path), inputs, source="studio", data_hash="a",
        evaluation={"cv": _cv({"a": (0.9, 3), "b": (0.9, 3)})},
    )  # fmt: skip
    messages = [
        {"text": "x", "label": "a", "predicted": "a", "confidence": 0.9, "passed": True,
         "live_predicted": "b", "live_passed": False},
        {"text": "y", "label": "b", "predicted": "a", "confidence": 0.6, "passed": False,
         "live_predicted": "b", "live_passed": True},
        {"text": "z", "label": "b", "predicted": "a", "confidence": 0.6, "passed": False,
         "live_predicted": "b", "live_passed": True},
    ]  # fmt: skip
    held = {
        "messages": messages,
        "new": {"accuracy": 1 / 3},
        "live": {"accuracy": 2 / 3},
        "baseline": 1,
    }
    new = registry.add(
        _model(tmp_path), inputs, source="studio", data_hash="b",
        evaluation={"cv": _cv({"a": (0.5, 3), "b": (0.5, 3)}), "held_out": held},
    )  # fmt: skip
    result = compare(new, live, 0.05)
    assert result["regressions"] == [
        "macro F1 falls from 0.90 to 0.50",
        "held-out inbox accuracy falls from 0.67 to 0.33",
    ]
    assert (result["held_out"]["now_pass"], result["held_out"]["now_fail"]) == (1, 2)
    assert result["held_out"]["messages"][0]["live_predicted"] == "b"
    bare = registry.add(_model(tmp_path), inputs, source="cli", data_hash="c")
    unevaluated = compare(bare, live, 0.05)
    assert unevaluated["blocked"] is True
    assert unevaluated["regressions"] == ["v3 has not been evaluated"]
    against_nothing = compare(new, None, 0.05)
    assert "the live model is not in the registry" in against_nothing["notes"][0]
    assert against_nothing["held_out"]["live_accuracy"] is None


def test_held_out_split_is_stable_and_kept_out_of_training(inputs: TrainingInputs) -> None:
    texts = [f"message number {i}" for i in range(60)]
    chosen = held_out([(t, "greet") for t in texts] + [(texts[0], "greet")])
    assert 10 <= len(chosen) <= 30  # about one in three
    assert chosen == held_out([(t, "greet") for t in texts])
    assert all(is_held_out(t) for t, _ in chosen)
    assert is_held_out("Message  NUMBER 0") == is_held_out("message number 0")
    removed = drop_examples(inputs.data, ["HELLO there", "good morning", "not in the data"])
    assert removed == 2
    assert (inputs.data / "nlu" / "a.yml").read_text() == (
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hi\n'
    )


def test_labelled_messages_reads_the_assigned_inbox_labels(
    sessions: sessionmaker[Session],
) -> None:
    now = clock.now()
    with sessions.begin() as session:
        conversation = Conversation(
            channel="webchat", sender_id="s-1", started_at=now, last_activity_at=now
        )
        session.add(conversation)
        session.flush()
        decisions = [
            ("when do you open", InboxDecision.ASSIGNED, "faq/opening_hours"),
            ("lol", InboxDecision.DISMISSED, None),
            ("buy me a pizza", InboxDecision.OUT_OF_SCOPE, None),
            ("renew all my books", InboxDecision.ASSIGNED, "renew_loans"),
        ]
        for number, (text, decision, label) in enumerate(decisions):
            message = Message(
                event_key=f"e{number}",
                conversation_id=conversation.id,
                direction=Direction.INBOUND,
                sender_kind=SenderKind.READER,
                text=text,
                channel="webchat",
                sent_at=now,
            )
            session.add(message)
            session.flush()
            session.add(
                NluInboxLabel(message_id=message.id, decision=decision, label=label, text=text)
            )
    with sessions() as session:
        assert labelled_messages(session) == [
            ("when do you open", "faq/opening_hours"),
            ("renew all my books", "renew_loans"),
        ]


def test_a_run_follows_the_jobs_lines() -> None:
    from datetime import UTC, datetime

    run = TrainingRun(1, "ada", True, 2, 3, datetime(2026, 1, 1, tzinfo=UTC))
    run.apply('{"event": "progress", "phase": "train", "fraction": 0.3, "message": "trained X"}\n')
    run.apply("Rasa printed something that is not JSON\n")
    run.apply('{"event": "done", "version": 4}\n')
    assert (run.phase, run.fraction, run.message, run.version) == ("train", 0.3, "trained X", 4)
    assert run.steps == ["trained X"]
    view = run.as_json()
    assert (view["version"], view["baseline"], view["started_at"]) == (
        "v4", "v2", "2026-01-01T00:00:00+00:00",
    )  # fmt: skip
    run.apply('{"event": "error", "message": "rasa train failed"}')
    assert run.error == "rasa train failed"
