"""``./ric nlu inbox``: the NLU inbox in a terminal, on a real reader store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from tests.studio.inbox_data import LOW_TEXT_MASKED, seed_inbox
from tests.system import ROOT

pytestmark = pytest.mark.studio


def ric_nlu(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIC_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "launcher", "nlu", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_inbox_as_text_and_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    engine = make_engine(url)
    seeded = seed_inbox(make_session_factory(engine))
    engine.dispose()

    listed = ric_nlu(url, "inbox", "--json")
    assert listed.returncode == 0, listed.stderr
    groups = json.loads(listed.stdout)["groups"]
    assert {i for g in groups for i in (item["message_id"] for item in g["items"])} == {
        seeded.messages[name] for name in ("fallback", "low", "low_again", "handoff", "rated")
    }
    assert (groups[0]["label"], groups[0]["size"]) == (LOW_TEXT_MASKED, 2)

    text = ric_nlu(url, "inbox", "--limit", "1")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "NLU inbox: 2 messages in 1 groups (last 30 days)"
    assert lines[2] == f"[2] {LOW_TEXT_MASKED}  (low_confidence)"
    newest, oldest = lines[3].split(), lines[4].split()
    assert newest[3:6] == ["webchat", "faq/pets", "0.38"]
    assert oldest[3:6] == ["telegram", "faq/pets", "0.41"]
    assert "jo@example.org" not in text.stdout


def test_an_unmigrated_store_is_a_clear_error(tmp_path: Path) -> None:
    done = ric_nlu(f"sqlite:///{tmp_path / 'empty.db'}", "inbox")
    assert done.returncode == 1
    assert "run ./ric migrate first" in done.stdout


def test_nlu_alone_prints_its_commands() -> None:
    done = ric_nlu(
        "sqlite://",
    )
    assert done.returncode == 2
    assert "inbox" in done.stdout
