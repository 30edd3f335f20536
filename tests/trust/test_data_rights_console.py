"""The reader page's data-rights panel and its API, on a real console (issue 18, item 6).

A real ``python -m handoff_console`` process on a migrated SQLite reader store, with a
real SQL tracker store filled by :func:`tests.trust.test_data_rights.populate`; the
page is driven in headless Chromium. Librarians and admins export (audited); only
admins erase, after typing ``erase``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm_store.data_rights.tracker import read_events
from crm_store.models import AuditEntry, Reader
from rasa_plugins.tracker_store import IngestingTrackerStore
from tests.handoff_console.conftest import (
    STAFF,
    ApiClient,
    ConsoleStore,
    api_token_for,
    staff_store,
)
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.system import ROOT
from tests.trust.test_data_rights import CARD, OTHER_CARD, populate, tracker_store

pytestmark = [pytest.mark.trust, pytest.mark.browser]

__all__ = ["staff_store", "tracker_store"]  # fixtures used here

SHOTS = ROOT / "docs" / "img" / "trust"


@dataclass
class Scene:
    """The console, its store, the tracker store and the two readers' ids."""

    console: ConsoleServer
    store: ConsoleStore
    tracker: IngestingTrackerStore
    alice: int
    bob: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.console.port}"

    def client(self, username: str | None) -> ApiClient:
        token = None if username is None else api_token_for(self.store.sessions, username)
        return ApiClient(self.console, token)


@pytest.fixture
def scene(
    staff_store: ConsoleStore, tracker_store: IngestingTrackerStore, tmp_path: Path
) -> Iterator[Scene]:
    populate(tracker_store, staff_store.sessions)
    with staff_store.sessions() as session:
        ids = {
            card: session.execute(select(Reader.id).where(Reader.card_number == card)).scalar_one()
            for card in (CARD, OTHER_CARD)
        }
    console = start_console(
        staff_store.url,
        tmp_path / "console.log",
        extra_env={"RIC_TRACKER_DATABASE_URL": str(tracker_store.engine.url)},
    )
    try:
        yield Scene(console, staff_store, tracker_store, ids[CARD], ids[OTHER_CARD])
    finally:
        console.stop()


def rights_audit(scene: Scene) -> list[tuple[str, int | None, str]]:
    with scene.store.sessions() as session:
        rows = session.execute(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["reader.export", "reader.erase"]))
            .order_by(AuditEntry.id)
        ).scalars()
        return [(row.action, row.staff_user_id, row.detail["via"]) for row in rows]


def staff_id(scene: Scene, username: str) -> int:
    from crm_store.models import StaffUser

    with scene.store.sessions() as session:
        return session.execute(
            select(StaffUser.id).where(StaffUser.username == username)
        ).scalar_one()


def sign_in_as(page: Page, console: ConsoleServer, username: str, path: str) -> None:
    """Sign in on the console's login page as one of the ``STAFF`` accounts."""
    url = f"http://127.0.0.1:{console.port}"
    page.goto(f"{url}{path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(STAFF[username][2])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{url}{path}")


def sign_in(page: Page, scene: Scene, username: str, path: str) -> None:
    sign_in_as(page, scene.console, username, path)


def test_librarians_export_and_only_admins_erase(page: Page, scene: Scene) -> None:
    sign_in(page, scene, "sam", f"/readers/{scene.bob}")  # a librarian's page
    expect(page.get_by_role("button", name="Export everything as JSON")).to_be_visible()
    expect(page.locator("#erase-form")).to_have_count(0)

    export = f"/api/readers/{scene.alice}/export"
    erase = f"/api/readers/{scene.alice}/erase"
    assert scene.client(None).get(export).status == 401
    assert scene.client("morgan").get(export).status == 403  # a manager
    reply = scene.client("sam").get(export)
    assert reply.status == 200
    assert reply.headers["Content-Disposition"] == (
        f'attachment; filename="reader-{scene.alice}.json"'
    )
    document = reply.json()
    assert document["reader"]["card_number"] == CARD
    assert len(document["conversations"][0]["tracker_events"]) == 5
    assert scene.client("sam").get("/api/readers/999999/export").status == 404

    assert scene.client("sam").post(erase, {"confirm": "erase"}).status == 403
    refused = scene.client("alex").post(erase, {"confirm": "yes"})
    assert (refused.status, refused.json()["error"]) == (400, "confirm_missing")
    erased = scene.client("alex").post(erase, {"confirm": "erase"})
    assert erased.status == 200
    counts = erased.json()["counts"]
    assert (counts["tracker_events"], counts["identities"]) == (5, 1)
    assert read_events(scene.tracker.engine, ["web-alice"])["web-alice"] == []
    assert rights_audit(scene) == [
        ("reader.export", staff_id(scene, "sam"), "console"),
        ("reader.erase", staff_id(scene, "alex"), "console"),
    ]


def test_an_admin_exports_then_erases_from_the_profile_page(page: Page, scene: Scene) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, scene, "alex", f"/readers/{scene.alice}")
    expect(page.locator("#reader-name")).to_have_text("Alice Reader")
    panel = page.locator("#data-rights")
    with page.expect_download() as download_info:
        panel.get_by_role("button", name="Export everything as JSON").click()
    download = download_info.value
    assert download.suggested_filename == f"reader-{scene.alice}.json"
    document = json.loads(Path(download.path()).read_text())
    assert document["reader"]["display_name"] == "Alice Reader"
    expect(page.locator("#export-status")).to_have_text(
        f"Exported 1 conversation(s) as reader-{scene.alice}.json."
    )
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(SHOTS / "reader-data-rights.png"))

    # A wrong word changes nothing.
    page.get_by_label("Type erase to confirm").fill("delete")
    page.get_by_role("button", name="Erase this reader").click()
    expect(page.locator("#erase-status")).to_have_text(
        "Type erase to confirm; nothing was changed."
    )
    assert read_events(scene.tracker.engine, ["web-alice"])["web-alice"] != []

    page.get_by_label("Type erase to confirm").fill("erase")
    page.get_by_role("button", name="Erase this reader").click()
    expect(page.locator("#erase-status")).to_contain_text("Erased: ")
    panel.screenshot(path=str(SHOTS / "reader-erased.png"))
    assert read_events(scene.tracker.engine, ["web-alice"])["web-alice"] == []
    with scene.store.sessions() as session:
        assert session.get(Reader, scene.alice).display_name is None
        assert session.get(Reader, scene.bob).display_name == "Bob Reader"
    assert [action for action, _, _ in rights_audit(scene)] == ["reader.export", "reader.erase"]
