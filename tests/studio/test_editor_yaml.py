"""The editor's YAML and pending changes without a console: round trip, git HEAD, patch."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from handoff_console.services.errors import BadRequest
from handoff_console.studio.training_data import BotProject
from handoff_console.studio.training_data.changes import baseline_for, pending
from handoff_console.studio.training_data.editor import _lock
from handoff_console.studio.training_data.intents import rename_intent, set_examples
from handoff_console.studio.training_data.model import snapshot
from handoff_console.studio.training_data.project import dump_yaml, load_yaml
from handoff_console.studio.training_data.responses import set_response
from tests.studio.editor_support import BOT, bot_copy
from tests.system import ROOT

pytestmark = pytest.mark.studio


def project(tmp_path: Path) -> BotProject:
    return BotProject(bot_copy(tmp_path), ROOT / "config.yml")


def test_every_shipped_file_dumps_back_byte_for_byte() -> None:
    shipped = BotProject(BOT, ROOT / "config.yml")
    changed = [rel for rel, text in shipped.texts().items() if dump_yaml(load_yaml(text)) != text]

    assert len(shipped.texts()) > 20
    assert changed == []


def test_an_edit_rewrites_only_the_examples_block(tmp_path: Path) -> None:
    bot = project(tmp_path)
    snap = snapshot(bot)
    examples = [(e.text, e.file) for e in snap.examples_of("faq/donations")]

    set_examples(snap, "faq/donations", [*examples, ("can i donate [jigsaws](book_format)", None)])

    changes = snap.changes()
    assert list(changes) == ["data/nlu/faq_services.yml"]
    before = (BOT / "data/nlu/faq_services.yml").read_text().splitlines(keepends=True)
    after = changes["data/nlu/faq_services.yml"].splitlines(keepends=True)
    added = [line for line in after if line not in before]
    assert added == ["      - can i donate [jigsaws](book_format)\n"]
    assert len(after) == len(before) + 1


def test_rename_reaches_rules_domain_and_button_payloads(tmp_path: Path) -> None:
    bot = project(tmp_path)
    snap = snapshot(bot)
    button = {"title": "Leave a message", "payload": '/leave_message{"topic": "x"}'}
    set_response(snap, "utter_greet", [{"text": "Hello!", "buttons": [button]}])

    files = rename_intent(snap, "leave_message", "leave_a_note")

    texts = snap.changes()
    assert sorted(texts) == files
    assert '          payload: \'/leave_a_note{"topic": "x"}\'\n' in texts["domain/core.yml"]
    assert "      - intent: leave_a_note\n" in texts["data/rules/handoff.yml"]
    old = re.compile(r"leave_message(?!_form)")  # the form keeps its own name

    def names_old(text: str) -> bool:  # comments are prose, and stay as written
        return any(old.search(ln) for ln in text.splitlines() if not ln.lstrip().startswith("#"))

    assert [rel for rel, text in texts.items() if names_old(text)] == []
    untouched = {rel: text for rel, text in bot.texts().items() if rel not in texts}
    assert [rel for rel, text in untouched.items() if names_old(text)] == []


def test_a_contract_name_is_not_renamed(tmp_path: Path) -> None:
    snap = snapshot(project(tmp_path))

    with pytest.raises(BadRequest, match="contract"):
        rename_intent(snap, "give_feedback", "leave_feedback")

    assert snap.changes() == {}


def test_pending_changes_against_git_head(tmp_path: Path) -> None:
    bot = project(tmp_path)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "bot"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "bot"], check=True)
    nlu = bot.root / "data/nlu/core.yml"
    nlu.write_text(nlu.read_text() + "  - intent: greet\n    examples: |\n      - howdy\n")
    (bot.root / "data/nlu/studio.yml").write_text('version: "3.1"\nnlu: []\n')

    found = pending(bot)

    assert found.baseline.startswith("git HEAD ")
    assert baseline_for(bot).prefix == "bot"
    assert [(c.path, c.status, c.added_lines, c.removed_lines) for c in found.files] == [
        ("data/nlu/core.yml", "modified", 3, 0),
        ("data/nlu/studio.yml", "added", 2, 0),
    ]
    patch = tmp_path.parent / f"{tmp_path.name}.patch"
    patch.write_text(found.patch)
    subprocess.run([*git, "stash", "-u", "-q"], check=True)  # the tmp repository's own
    applied = subprocess.run([*git, "apply", "--check", str(patch)], capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr


def test_a_save_holds_a_lock_other_console_processes_respect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIC_STUDIO_STATE_DIR", str(tmp_path / "state"))
    bot = project(tmp_path)
    probe = (
        "import fcntl, sys; f = open(sys.argv[1], 'a')\n"
        "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n"
        "    sys.exit(3)\n"
    )

    with _lock(bot.root):
        (lock_file,) = (tmp_path / "state").glob("lock-*")
        held = subprocess.run([sys.executable, "-c", probe, str(lock_file)])
    free = subprocess.run([sys.executable, "-c", probe, str(lock_file)])

    assert held.returncode == 3
    assert free.returncode == 0
