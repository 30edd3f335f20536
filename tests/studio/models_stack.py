"""A running system whose studio trains from a small copy of the project (issue 16, models).

Training, the registry and Rasa's training cache all live in a tmp folder: nothing is
written into the shared model cache or ``bot/``. The copy keeps the whole domain, the
rules and the config, and :data:`PER_LABEL` examples of each intent and FAQ topic, so a
model trains (and cross-validates) in a fraction of the full data's time; it is still a
real model of the real pipeline, served by a real Rasa server.

Before the system starts, v1 is trained from that copy (without the new FAQ topic) and
recorded as active, so ``./ric up`` starts Rasa with it (an admin's choice survives a
restart). The tests then add the topic :data:`NEW_TOPIC` with its answer to the copy.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm_store import clock
from crm_store.db import make_engine, make_session_factory
from crm_store.models import (
    Conversation,
    Direction,
    InboxDecision,
    Message,
    NluInboxLabel,
    SenderKind,
)
from handoff_console.accounts import create_staff, issue_api_token
from handoff_console.studio.models import ModelRegistry
from handoff_console.studio.models.heldout import is_held_out
from tests.handoff_console.conftest import ApiClient
from tests.handoff_console.console_server import ConsoleServer, Reply
from tests.system import ROOT, RunningSystem, start_system

if TYPE_CHECKING:
    import pytest

ADMIN_PASSWORD = "admin-test-passphrase-1"
PER_LABEL = 6
FOLDS = 2
NEW_TOPIC = "faq/museum_passes"
NEW_ANSWER = "Museum passes: borrow a free family pass to the Riverbend Art Museum for 7 days."
NEW_QUESTION = "can I borrow a museum pass"
NEW_EXAMPLES = [
    "can I borrow a museum pass",
    "do you lend museum passes",
    "museum pass",
    "free tickets to the art museum",
    "how do I get a pass for the museum",
    "can i check out a museum pass with my card",
    "does the library have passes for museums",
    "museum family pass loan",
]
INBOX_CANDIDATES = [
    "could I borrow a pass to the museum",
    "do you have museum passes to lend",
    "is there a pass for the art museum I can take out",
    "museum passes at the library?",
    "can my family get a museum pass from you",
    "lend me a museum ticket",
    "museum pass please",
    "borrowing passes for museums",
]
"""Reader messages an admin assigned to the new topic in the NLU inbox (part 2's table)."""
QUICK_CONFIG = """recipe: default.v1
language: en
assistant_id: reader-interaction-center
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
policies:
  - name: RulePolicy
"""
"""A pipeline without the sentence encoder, for tests of the CLI's path rather than of the
project's pipeline (which the console's training run covers): it trains in seconds."""
_EXAMPLE = re.compile(r"^\s{6,}- ")
_HEADING = re.compile(r"^\s*- intent: (\S+)")


def small_project(target: Path, per_label: int = PER_LABEL) -> Path:
    """Copy ``config.yml`` and ``bot/`` to ``target`` with ``per_label`` examples per label."""
    shutil.copyfile(ROOT / "config.yml", target / "config.yml")
    bot = target / "bot"
    shutil.copytree(ROOT / "bot", bot, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    counts: dict[str, int] = {}
    for path in sorted((bot / "data" / "nlu").glob("*.yml")):
        kept, label = [], None
        for line in path.read_text().splitlines(keepends=True):
            heading = _HEADING.match(line)
            if heading:
                label = heading.group(1)
            elif not _EXAMPLE.match(line) and line.strip() and not line.startswith("    "):
                label = None
            elif _EXAMPLE.match(line) and label is not None:
                counts[label] = counts.get(label, 0) + 1
                if counts[label] > per_label:
                    continue
            kept.append(line)
        path.write_text("".join(kept))
    return bot


def add_new_topic(bot: Path) -> None:
    """Add :data:`NEW_TOPIC`, its examples and its answer to the copy (as an admin would)."""
    examples = "".join(f"      - {text}\n" for text in NEW_EXAMPLES)
    (bot / "data" / "nlu" / "faq_museum.yml").write_text(
        f'version: "3.1"\nnlu:\n  - intent: {NEW_TOPIC}\n    examples: |\n{examples}'
    )
    (bot / "domain" / "faq_museum.yml").write_text(
        f'version: "3.1"\nresponses:\n  utter_{NEW_TOPIC}:\n    - text: "{NEW_ANSWER}"\n'
    )


def run_job(registry: Path, project: Path, *extra: str) -> dict[str, Any]:
    """Run the training job (as the console and the CLI do); its last line."""
    command = [
        sys.executable, "-m", "handoff_console.studio.models.job", "--registry", str(registry),
        "--config", str(project / "config.yml"), "--bot-dir", str(project / "bot"), *extra,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["event"] == "done", (last, done.stderr[-3000:])
    return dict(last)


@dataclass
class ModelsStack:
    """The running system, its tmp project and registry, and an admin's API client."""

    system: RunningSystem
    project: Path
    registry: ModelRegistry
    admin: ApiClient
    env: dict[str, str]
    admin_username: str

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """``python -m launcher <args>`` against this system (what ``./ric`` runs)."""
        return subprocess.run(
            [sys.executable, "-m", "launcher", *args],
            cwd=ROOT,
            env={**os.environ, **self.env, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )

    def slow_post(self, path: str, data: object = None) -> Reply:
        """POST as the admin with a long timeout: activation waits for Rasa to load a model."""
        connection = http.client.HTTPConnection("127.0.0.1", self.system.console_port, timeout=600)
        headers = {"Authorization": f"Bearer {self.admin.token}", "Accept": "application/json"}
        headers["Content-Type"] = "application/json"
        try:
            connection.request("POST", path, body=json.dumps(data or {}), headers=headers)
            raw = connection.getresponse()
            return Reply(raw.status, raw.headers, raw.read())
        finally:
            connection.close()

    def wait_run(self, run_id: int, timeout: float = 900.0) -> dict[str, Any]:
        """Poll a training run until it ends; every state seen is kept on the reply."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            run = self.admin.get(f"/api/studio/training-runs/{run_id}").json()
            seen.append(run)
            if run["status"] != "running":
                run["seen"] = seen
                return dict(run)
            time.sleep(1.0)
        raise AssertionError(f"training run {run_id} did not end: {seen[-1]}")


@contextlib.contextmanager
def models_stack(base: Path, seed: Path | None = None) -> Iterator[ModelsStack]:
    """:func:`start_models_stack`, stopped at the end."""
    running = start_models_stack(base, seed)
    try:
        yield running
    finally:
        running.system.stop()


def seed_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding v1 trained from the small copy, trained once per test session.

    Every module that starts a :class:`ModelsStack` copies it (the registry is a folder
    of relocatable files), so the identical v1 is not retrained per module. It lives in
    the session's tmp folder: never in the shared model cache of the real ``bot/`` data.
    """
    seed = tmp_path_factory.getbasetemp() / "models-seed"
    registry = seed / "registry"
    if not (registry / "v1.json").is_file():
        shutil.rmtree(seed, ignore_errors=True)
        (seed / "project").mkdir(parents=True)
        small_project(seed / "project")
        run_job(registry, seed / "project", "--source", "cli", "--by", "tests")
    return registry


def module_stack(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[ModelsStack]:
    """A module-scoped fixture's body: a stack on a copy of the session's v1."""
    with models_stack(tmp_path_factory.mktemp(name), seed_registry(tmp_path_factory)) as running:
        yield running


def start_models_stack(base: Path, seed: Path | None = None) -> ModelsStack:
    """Copy v1 from ``seed`` (:func:`seed_registry`; trained here without one), start the
    system on it and sign an admin in."""
    project = base / "project"
    project.mkdir()
    small_project(project)
    registry = base / "registry"
    if seed is None:
        run_job(registry, project, "--source", "cli", "--by", "tests")
    else:
        shutil.copytree(seed, registry, ignore=shutil.ignore_patterns(".rasa-cache", "tmp*"))
    assert [v.number for v in ModelRegistry(registry).versions()] == [1]
    ModelRegistry(registry).set_active(1, "tests", "activate")
    env = {
        "RIC_MODEL_REGISTRY": str(registry),
        "RIC_STUDIO_BOT_DIR": str(project / "bot"),
        "RIC_STUDIO_CONFIG_FILE": str(project / "config.yml"),
        "RIC_STUDIO_CV_FOLDS": str(FOLDS),
    }
    system = start_system(base / "var", extra_env=env)
    sessions = make_session_factory(make_engine(system.database_url))
    with sessions.begin() as session:
        user = create_staff(
            session,
            username=f"admin{uuid.uuid4().hex[:6]}",
            password="admin-test-passphrase-1",
            role="admin",
            display_name="Ada Admin",
        )
        token = issue_api_token(session, user.id, "models tests")
        username = str(user.username)
    server = ConsoleServer(None, system.console_port, Path("/dev/null"))  # type: ignore[arg-type]
    cli_env = {
        **env,
        "RIC_VAR_DIR": str(system.var_dir),
        "RIC_RASA_PORT": str(system.rasa_port),
        "RIC_ACTIONS_PORT": str(system.actions_port),
        "RIC_CONSOLE_PORT": str(system.console_port),
        "RIC_DATABASE_URL": "",
        "RIC_TRACKER_DATABASE_URL": "",
        "RASA_AUTH_TOKEN": "",
    }
    return ModelsStack(
        system, project, ModelRegistry(registry), ApiClient(server, token), cli_env, username
    )


def label_inbox_messages(stack: ModelsStack) -> list[str]:
    """Store reader messages assigned to the new topic in the NLU inbox (part 2's table)."""
    held = [text for text in INBOX_CANDIDATES if is_held_out(text)]
    assert held, "no candidate text falls in the held-out share"
    now = clock.now()
    with make_session_factory(make_engine(stack.system.database_url)).begin() as session:
        conversation = Conversation(
            channel="webchat", sender_id=f"inbox-{uuid.uuid4().hex}", started_at=now,
            last_activity_at=now,
        )  # fmt: skip
        session.add(conversation)
        session.flush()
        for number, text in enumerate(INBOX_CANDIDATES):
            message = Message(
                event_key=f"inbox-{uuid.uuid4().hex}-{number}", conversation_id=conversation.id,
                direction=Direction.INBOUND, sender_kind=SenderKind.READER, text=text,
                channel="webchat", sent_at=now,
            )  # fmt: skip
            session.add(message)
            session.flush()
            label = NluInboxLabel(message_id=message.id, label=NEW_TOPIC, text=text)
            label.decision = InboxDecision.ASSIGNED
            session.add(label)
    return held
