"""``./ric reader export`` and ``./ric reader erase``, run as the README's command runs them.

The command runs in a child process (``python -m launcher``) on a reader store and a
real SQL tracker store filled by :func:`tests.trust.test_data_rights.populate`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_store.data_rights.tracker import read_events
from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from crm_store.models import AuditEntry, Reader
from rasa_plugins.tracker_store import IngestingTrackerStore
from tests.system import ROOT
from tests.trust.test_data_rights import CARD, populate, tracker_store

pytestmark = pytest.mark.trust

__all__ = ["tracker_store"]  # the fixture, imported for this module's tests


def reader_command(
    *args: str, env: dict[str, str | None], answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m launcher reader *args`` as ``./ric`` does, with ``env`` set (a value
    of None removes the variable)."""
    environment: dict[str, str | None] = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "launcher", "reader", *args],
        cwd=ROOT,
        env={k: v for k, v in environment.items() if v is not None},
        input=answer,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ric(
    tmp_path: Path, store_url: str, *args: str, answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    return reader_command(
        *args,
        env={
            "RIC_VAR_DIR": str(tmp_path / "var"),
            "RIC_DATABASE_URL": store_url,
            "RIC_TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        },
        answer=answer,
    )


def test_export_writes_a_private_json_file_and_erase_asks_first(
    tmp_path: Path, sqlite_url: str, tracker_store: IngestingTrackerStore
) -> None:
    """On SQLite only: the stores' side runs on PostgreSQL too in test_data_rights.py."""
    store_url = sqlite_url
    upgrade(store_url)
    engine = make_engine(store_url)
    sessions = make_session_factory(engine)
    populate(tracker_store, sessions)
    out = tmp_path / "alice.json"
    exported = ric(tmp_path, store_url, "export", "alice@example.org", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    assert (out.stat().st_mode & 0o777) == 0o600
    document = json.loads(out.read_text())
    assert document["reader"]["card_number"] == CARD
    assert len(document["conversations"][0]["tracker_events"]) == 5

    refused = ric(tmp_path, store_url, "erase", CARD, answer="no\n")
    assert refused.returncode == 1
    assert "cannot be undone" in refused.stderr and "Nothing was erased." in refused.stderr
    assert CARD not in refused.stderr + refused.stdout  # the card is shown masked
    with sessions() as session:
        assert session.execute(select(Reader).where(Reader.card_number == CARD)).first()

    erased = ric(tmp_path, store_url, "erase", CARD, answer="erase\n")
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.startswith("erased reader ")
    assert "tracker_events 5" in erased.stdout
    assert read_events(tracker_store.engine, ["web-alice"])["web-alice"] == []
    with sessions() as session:
        assert session.execute(select(Reader).where(Reader.card_number == CARD)).first() is None
        actions = session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
        rights = [a for a in actions if a in {"reader.export", "reader.erase"}]
        assert rights == ["reader.export", "reader.erase"]
    engine.dispose()

    again = ric(tmp_path, store_url, "erase", CARD, "--yes")
    assert (again.returncode, again.stderr.strip().splitlines()[-1]) == (
        1,
        "./ric reader erase: no reader matches **********3456",
    )
