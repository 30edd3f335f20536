"""Train, evaluate, activate and roll back through the real console, Rasa server and store.

One system for the module (``./ric up`` with a tmp model registry and a small copy of
the project's training data, :mod:`tests.studio.models_stack`). The tests run in order:
the console trains v2 (with the new FAQ topic) in the background, v2 goes live under
widget traffic with nothing lost, answers the new question, rolls back; a regressing
version is refused unless overridden with a reason; the CLI lists, activates, rolls back
and trains (with :data:`~tests.studio.models_stack.QUICK_CONFIG`, a pipeline without the
sentence encoder: the CLI's path is what that test proves, the console's run trained and
evaluated the project's pipeline). v1 is trained once per test session
(:func:`~tests.studio.models_stack.seed_registry`) and shared with the browser test.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_store.db import make_engine, make_session_factory
from crm_store.models import AuditEntry, Direction, Message
from crm_store.repositories import conversation_of
from handoff_console.accounts import create_staff, issue_api_token
from handoff_console.studio.models import TrainingInputs
from tests import aio
from tests.handoff_console.conftest import ApiClient
from tests.live_console import wait_for
from tests.studio.models_stack import (
    NEW_ANSWER,
    NEW_QUESTION,
    NEW_TOPIC,
    QUICK_CONFIG,
    ModelsStack,
    add_new_topic,
    label_inbox_messages,
    module_stack,
)
from tests.webchat_client import WidgetClient, bot_texts

pytestmark = [pytest.mark.studio, pytest.mark.rasa]

TRAFFIC_CLIENTS = 4
TRAFFIC_MESSAGES = 6


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelsStack]:
    yield from module_stack(tmp_path_factory, "models")


def _sessions(stack: ModelsStack) -> Any:
    return make_session_factory(make_engine(stack.system.database_url))


def _live_file(stack: ModelsStack) -> str:
    listing = stack.admin.get("/api/studio/models").json()
    return str(listing["live_model_file"])


def _ask(stack: ModelsStack, text: str) -> list[str]:
    async def ask() -> list[str]:
        widget = await WidgetClient(stack.system.ws_url).connect()
        try:
            return bot_texts(await widget.say(text))
        finally:
            await widget.close()

    return aio.run(ask())


def test_up_starts_rasa_with_the_active_version(stack: ModelsStack) -> None:
    listing = stack.admin.get("/api/studio/models").json()
    assert [(v["version"], v["live"], v["active"]) for v in listing["items"]] == [
        ("v1", True, True)
    ]
    assert listing["active"]["activated_by"] == "tests"
    health = stack.admin.get("/api/health").json()
    rasa = next(s for s in health["services"] if s["name"] == "Rasa server")
    assert rasa["detail"].startswith("model v1 (")
    assert any("v1, made live by tests" in line for line in stack.system.output)


def test_train_runs_in_the_background_with_progress_and_comparison(stack: ModelsStack) -> None:
    add_new_topic(stack.project / "bot")
    held = label_inbox_messages(stack)
    started = stack.admin.post("/api/studio/training-runs", {"evaluate": True})
    assert started.status == 202, started.json()
    run = started.json()
    assert (run["status"], run["baseline"], run["held_out"]) == ("running", "v1", len(held))
    busy = stack.admin.post("/api/studio/training-runs", {"evaluate": True})
    assert (busy.status, busy.json()["error"]) == (409, "busy")
    assert stack.admin.post("/api/studio/training-runs", {"evaluate": "yes"}).status == 400
    # The console keeps answering while the job trains.
    assert stack.admin.get("/api/studio/models").json()["running_run"] == run["id"]
    done = stack.wait_run(run["id"])
    assert (done["status"], done["version"], done["error"]) == ("succeeded", "v2", None)
    phases = [state["phase"] for state in done["seen"]]
    assert "evaluate" in phases or "train" in phases, phases
    fractions = [state["fraction"] for state in done["seen"]]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    comparison = stack.admin.get("/api/studio/models/2/comparison").json()
    assert (comparison["version"], comparison["live_version"]) == ("v2", "v1")
    rows = {row["label"]: row for row in comparison["intents"]}
    assert rows[NEW_TOPIC]["added"] is True and rows[NEW_TOPIC]["live_f1"] is None
    assert rows[NEW_TOPIC]["new_f1"] >= 0.5
    assert rows["greet"]["live_f1"] is not None and rows["greet"]["new_f1"] is not None
    assert comparison["macro_f1"]["live"] is not None
    assert comparison["blocked"] is False, comparison["regressions"]
    heldout = comparison["held_out"]
    assert heldout["count"] == len(held)
    assert [m["text"] for m in heldout["messages"]] == held
    passing = [m for m in heldout["messages"] if m["new_passed"] and not m["live_passed"]]
    assert heldout["now_pass"] == len(passing) >= 1  # the live model has no such topic
    assert all(m["live_predicted"] != NEW_TOPIC for m in heldout["messages"])


def test_activation_under_widget_traffic_answers_and_stores_every_message(
    stack: ModelsStack,
) -> None:
    async def reader(number: int, swapped: asyncio.Event) -> tuple[str, list[list[str]]]:
        widget = await WidgetClient(stack.system.ws_url).connect()
        replies = []
        try:
            for turn in range(TRAFFIC_MESSAGES):
                text = "what are your opening hours" if turn % 2 else "hello"
                replies.append(bot_texts(await widget.say(f"{text} ({number}.{turn})")))
                if turn == TRAFFIC_MESSAGES // 2:
                    await swapped.wait()  # the second half goes to the new model
        finally:
            await widget.close()
        assert widget.session_id is not None
        return widget.session_id, replies

    async def traffic() -> tuple[list[tuple[str, list[list[str]]]], Any]:
        swapped = asyncio.Event()
        readers = [asyncio.create_task(reader(n, swapped)) for n in range(TRAFFIC_CLIENTS)]
        await asyncio.sleep(0.5)
        reply = await asyncio.to_thread(stack.slow_post, "/api/studio/models/2/activate")
        swapped.set()
        return await asyncio.gather(*readers), reply

    results, reply = aio.run(traffic())
    assert reply.status == 200, reply.json()
    assert (reply.json()["version"], reply.json()["previous"], reply.json()["how"]) == (
        "v2", "v1", "activate",
    )  # fmt: skip
    for _sender, replies in results:
        assert len(replies) == TRAFFIC_MESSAGES
        assert all(texts for texts in replies), replies  # every message got an answer
    assert _live_file(stack) == "v2.tar.gz"
    sessions = _sessions(stack)

    def stored() -> bool:
        with sessions() as session:
            counts = []
            for sender, _ in results:
                conversation = conversation_of(session, sender)
                if conversation is None:
                    return False
                counts.append(
                    session.execute(
                        select(func.count(Message.id))
                        .where(Message.conversation_id == conversation.id)
                        .where(Message.direction == Direction.INBOUND)
                    ).scalar_one()
                )
            return counts == [TRAFFIC_MESSAGES] * TRAFFIC_CLIENTS

    wait_for(stored, timeout=60)
    with sessions() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "studio.model.activate")
        ).scalar_one()
        assert (entry.subject, entry.detail["previous"]) == ("model:v2", 1)


def test_the_new_model_answers_the_new_question_and_roll_back_restores_the_old(
    stack: ModelsStack,
) -> None:
    assert NEW_ANSWER in _ask(stack, NEW_QUESTION)
    page = stack.admin.server.client().request(
        "GET", "/studio/models", headers={"Authorization": f"Bearer {stack.admin.token}"}
    )
    assert page.status == 200
    assert 'id="active-model-version">v2<' in page.body.decode()
    back = stack.slow_post("/api/studio/models/rollback")
    assert back.status == 200, back.json()
    assert (back.json()["version"], back.json()["how"], back.json()["previous"]) == (
        "v1", "rollback", "v2",
    )  # fmt: skip
    assert _live_file(stack) == "v1.tar.gz"
    assert NEW_ANSWER not in _ask(stack, NEW_QUESTION)


def test_a_regression_blocks_activation_unless_overridden_with_a_reason(
    stack: ModelsStack, tmp_path: Path
) -> None:
    live = stack.registry.get(1)
    assert live.evaluation is not None and live.evaluation["cv"] is not None
    worse = {**live.evaluation["cv"], "macro_f1": live.evaluation["cv"]["macro_f1"] - 0.2}
    snapshot = stack.registry.snapshot_of(1)
    assert snapshot is not None
    inputs = TrainingInputs.unpack(snapshot, tmp_path / "inputs")
    model = tmp_path / "model.tar.gz"
    shutil.copyfile(live.path, model)
    third = stack.registry.add(
        model, inputs, source="cli", data_hash="worse", evaluation={"cv": worse}
    )
    assert third.label == "v3"
    blocked = stack.admin.post("/api/studio/models/3/activate", {})
    assert blocked.status == 409
    assert blocked.json()["error"] == "regression"
    assert blocked.json()["regressions"][0].startswith("macro F1 falls from")
    assert _live_file(stack) == "v1.tar.gz"
    no_reason = stack.admin.post("/api/studio/models/3/activate", {"override": True})
    assert (no_reason.status, no_reason.json()["error"]) == (400, "reason_required")
    forced = stack.slow_post(
        "/api/studio/models/3/activate", {"override": True, "reason": "tested by hand"}
    )
    assert forced.status == 200, forced.json()
    assert forced.json()["how"] == "override"
    assert _live_file(stack) == "v3.tar.gz"
    assert stack.admin.post("/api/studio/models/99/activate", {}).status == 404
    with _sessions(stack)() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "studio.model.override")
        ).scalar_one()
    assert entry.subject == "model:v3"
    assert entry.detail["reason"] == "tested by hand"
    assert entry.detail["regressions"] == blocked.json()["regressions"]


def test_analytics_shows_the_model_history_to_managers_not_librarians(stack: ModelsStack) -> None:
    with _sessions(stack).begin() as session:
        tokens = {}
        for role in ("librarian", "manager"):
            user = create_staff(
                session, username=f"{role}{uuid.uuid4().hex[:6]}", role=role,
                password="a-long-test-passphrase-1",
            )  # fmt: skip
            tokens[role] = issue_api_token(session, user.id, "models tests")
    manager = ApiClient(stack.admin.server, tokens["manager"])
    librarian = ApiClient(stack.admin.server, tokens["librarian"])
    history = manager.get("/api/analytics/model").json()
    assert history["live_version"] == "v3"
    assert [(a["version"], a["how"]) for a in history["activations"]] == [
        ("v1", "activate"), ("v2", "activate"), ("v1", "rollback"), ("v3", "override"),
    ]  # fmt: skip
    assert librarian.get("/api/analytics/model").status == 403
    assert manager.post("/api/studio/models/rollback").status == 403
    assert librarian.get("/api/studio/models").status == 403


def test_cli_lists_activates_rolls_back_and_trains(stack: ModelsStack) -> None:
    listed = stack.cli("nlu", "models")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["v3", "v2", "v1"]
    assert lines[0].endswith("live active")
    assert stack.cli("nlu", "activate", "v9").returncode == 1
    assert stack.cli("nlu", "activate", "nine").returncode == 2
    activated = stack.cli("nlu", "activate", "2")
    assert activated.returncode == 0, activated.stdout + activated.stderr
    assert "v2 is live (activate)" in activated.stdout
    assert _live_file(stack) == "v2.tar.gz"
    refused = stack.cli("nlu", "activate", "v3")
    assert refused.returncode == 1
    assert "BLOCKED: macro F1 falls from" in refused.stdout
    rolled = stack.cli("nlu", "rollback")
    assert (rolled.returncode, _live_file(stack)) == (0, "v3.tar.gz")
    assert stack.cli("nlu", "activate", "v2").returncode == 0
    # The CLI's own path (job, registry, comparison with the live v2, printed summary)
    # with a quick pipeline: the console's run above trained the project's pipeline.
    quick = stack.project / "quick-config.yml"
    quick.write_text(QUICK_CONFIG)
    trained = stack.cli(
        "nlu", "train", "--evaluate", "--folds", "2", RIC_STUDIO_CONFIG_FILE=str(quick)
    )
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "Trained v4" in trained.stdout
    assert "v4 against live v2: macro F1 " in trained.stdout
    assert "Make it live with: ./ric nlu activate v4" in trained.stdout
    fourth = stack.registry.get(4)
    assert (fourth.source, fourth.created_by is not None) == ("cli", True)
    assert fourth.evaluation is not None and fourth.evaluation["held_out"]["baseline"] == 2
