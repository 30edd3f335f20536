"""Headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from handoff_console.accounts import create_staff
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.standins.chromium import ARGS, CHROMIUM  # noqa: F401 - kept importable here

# -- a console on its own store, for the workspace pages' tests (no Rasa) -----------------

SCENE_PASSWORD = "sam-correct-horse-battery"
"""The password of every account :func:`console_scene` makes."""
LIBRARIAN = ("sam", "librarian", "Sam Reyes")


@dataclass
class ConsoleScene:
    """A real ``python -m handoff_console`` on a migrated SQLite store of its own."""

    console: ConsoleServer
    url: str
    sessions: sessionmaker[Session]

    def sign_in(self, page: Page, path: str, username: str = "sam") -> None:
        """Open ``path``, sign in on the login page it leads to, and land on ``path``."""
        page.goto(f"{self.url}{path}")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(SCENE_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(re.escape(f"{self.url}{path}") + r"(\?|#|$)"))


StartScene = Callable[..., tuple[ConsoleScene, Any]]


@pytest.fixture
def console_scene(tmp_path: Path) -> Iterator[StartScene]:
    """Start a console on a fresh store: ``start(setup, staff=[(username, role, name)])``.

    The staff accounts (Sam, a librarian, by default) get :data:`SCENE_PASSWORD`;
    ``setup(session)`` then fills the store in the same transaction, and what it returns
    comes back with the scene. The console stops at the end of the test.
    """
    started: list[ConsoleScene] = []

    def start(
        setup: Callable[[Session], Any] | None = None,
        staff: Iterable[tuple[str, str, str]] = (LIBRARIAN,),
    ) -> tuple[ConsoleScene, Any]:
        url = f"sqlite:///{tmp_path / 'crm.db'}"
        upgrade(url)
        sessions = make_session_factory(make_engine(url))
        with sessions.begin() as session:
            for username, role, name in staff:
                create_staff(
                    session, username=username, password=SCENE_PASSWORD, role=role,
                    display_name=name,
                )  # fmt: skip
            made = setup(session) if setup is not None else None
        console = start_console(url, tmp_path / "console.log")
        scene = ConsoleScene(console, f"http://127.0.0.1:{console.port}", sessions)
        started.append(scene)
        return scene, made

    yield start
    for scene in started:
        scene.console.stop()
        scene.sessions.kw["bind"].dispose()


# -- two people at once ---------------------------------------------------------------------


@pytest.fixture
def pages(browser: Browser) -> Iterator[tuple[Page, Page]]:
    """Two pages, each in its own browser context (1366 by 900 pixels), as two people would use.

    Neither may raise a page error: the fixture fails the test at teardown if one did.
    """
    contexts = [browser.new_context(viewport={"width": 1366, "height": 900}) for _ in range(2)]
    errors: list[str] = []
    opened = []
    for context in contexts:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        opened.append(page)
    yield opened[0], opened[1]
    for context in contexts:
        context.close()
    assert errors == []
