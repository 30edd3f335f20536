"""Security headers of the real console over HTTP, and the session cookie's Secure flag.

Every GET route of the console app (enumerated from its router, so a new page is
covered without touching this file) answers with the Content-Security-Policy, nosniff,
a referrer policy and framing rules; the session cookie is Secure when the console's
public URL is https. The browser side (no CSP violation on any page) is in
``test_headers_browser.py``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff_console.app import create_app
from handoff_console.settings import ConsoleSettings
from tests.handoff_console.conftest import STAFF, ConsoleStore
from tests.handoff_console.console_server import ConsoleServer, start_console

pytestmark = pytest.mark.trust

BROWSER = {"Accept": "text/html,application/xhtml+xml"}
RASA_PUBLIC = "https://chat.example-library.org"


@functools.cache  # one app per process: Sanic refuses a second app of the same name
def console_get_routes() -> tuple[str, ...]:
    """Every GET route of the console app, as its router knows it (parameters left in)."""
    app = create_app(
        ConsoleSettings.from_env(database_url="sqlite://", rasa_public_url=RASA_PUBLIC),
        name="trust_headers_routes",
    )
    uris: set[str] = set()
    for route in app.router.routes:
        if "GET" in route.methods:
            uris.add("/" + route.path.lstrip("/"))
    return tuple(sorted(uris))


def concrete(uri: str) -> str:
    """A route with each ``<name:type>`` parameter replaced by a value (``1``, or ``x``)."""
    return re.sub(r"<([^:>]+)(?::([^>]+))?>", lambda m: "x" if m.group(2) == "path" else "1", uri)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """A console whose public URL is https, with the demo widget on another host."""
    from tests.handoff_console.conftest import _store

    directory = tmp_path_factory.mktemp("trust_headers")
    store: ConsoleStore = _store(directory)
    server = start_console(
        store.url,
        directory / "console.log",
        extra_env={
            "RIC_CONSOLE_PUBLIC_URL": "https://desk.example-library.org",
            "RIC_RASA_PUBLIC_URL": RASA_PUBLIC,
        },
    )
    yield server
    server.stop()


def directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy as ``{directive: sources}``."""
    parts = [p.strip().split(None, 1) for p in policy.split(";") if p.strip()]
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def test_every_get_route_has_the_security_headers(console: ConsoleServer) -> None:
    routes = console_get_routes()
    assert "/demo" in routes and "/login" in routes and "/api/health" in routes
    client = console.client()
    missing: dict[str, list[str]] = {}
    for uri in routes:
        reply = client.get(concrete(uri), headers=BROWSER)
        headers = reply.headers
        problems = []
        policy = directives(headers.get("Content-Security-Policy", ""))
        if policy.get("script-src") not in ("'self'", f"'self' {RASA_PUBLIC}"):
            problems.append(f"script-src {policy.get('script-src')!r}")
        if policy.get("style-src") != "'self'":
            problems.append(f"style-src {policy.get('style-src')!r}")
        if "'unsafe-" in headers.get("Content-Security-Policy", ""):
            problems.append("an 'unsafe-…' source")
        if policy.get("object-src") != "'none'" or policy.get("base-uri") != "'none'":
            problems.append("object-src/base-uri")
        if policy.get("frame-ancestors") not in ("'none'", "'self'"):
            problems.append(f"frame-ancestors {policy.get('frame-ancestors')!r}")
        if headers.get("X-Content-Type-Options") != "nosniff":
            problems.append("nosniff")
        if headers.get("Referrer-Policy") != "same-origin":
            problems.append("Referrer-Policy")
        if headers.get("X-Frame-Options") not in ("DENY", "SAMEORIGIN"):
            problems.append("X-Frame-Options")
        if problems:
            missing[f"{uri} ({reply.status})"] = problems
    assert missing == {}


def test_pages_deny_framing_but_the_demo_loads_the_widget_from_rasa(
    console: ConsoleServer,
) -> None:
    client = console.client()
    login = client.get("/login", headers=BROWSER)
    assert login.status == 200
    assert directives(login.headers["Content-Security-Policy"])["frame-ancestors"] == "'none'"
    assert login.headers["X-Frame-Options"] == "DENY"
    missing = client.get("/no-such-page", headers=BROWSER)
    assert missing.status == 404
    assert "script-src 'self';" in missing.headers["Content-Security-Policy"]

    demo = client.get("/demo", headers=BROWSER)
    assert demo.status == 200
    policy = directives(demo.headers["Content-Security-Policy"])
    assert policy["script-src"] == f"'self' {RASA_PUBLIC}"
    assert policy["connect-src"] == f"'self' {RASA_PUBLIC} wss://chat.example-library.org"
    assert policy["frame-ancestors"] == "'none'"
    assert f'src="{RASA_PUBLIC}/webhooks/webchat/widget.js"' in demo.text


def test_no_template_has_inline_code_handlers_or_styles() -> None:
    templates = Path(__file__).resolve().parents[2] / "handoff_console" / "templates"
    found = []
    for path in sorted(templates.glob("*.html")):
        text = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.S):
            attributes, body = match.groups()
            if body.strip() and 'type="application/json"' not in attributes:
                found.append(f"{path.name}: inline <script> code")
        if re.search(r"\son[a-z]+\s*=", text):
            found.append(f"{path.name}: an on...= handler attribute")
        if "javascript:" in text.lower():
            found.append(f"{path.name}: a javascript: URL")
        if re.search(r"<style\b", text):
            found.append(f"{path.name}: a <style> block")
        if re.search(r"\sstyle\s*=", text):
            found.append(f"{path.name}: a style= attribute")
    assert found == []


INLINE_STYLE_FROM_SCRIPT = re.compile(
    r"""createElement\(\s*["']style["']"""  # an injected <style> element
    r"""|\bel\(\s*["']style["']"""  # the same through RicConsole.el
    r"""|setAttribute\(\s*["']style["']"""  # a style attribute set by string
    r"""|\bstyle=\\?["']"""  # markup with a style attribute (innerHTML)
)


def test_no_console_script_injects_inline_styles() -> None:
    # style-src has no 'unsafe-inline': these would be blocked. element.style (the
    # CSSOM) stays allowed. The vendored ECharts is checked in the browser instead
    # (test_headers_charts.py), and so is the widget (test_headers_browser.py).
    static = Path(__file__).resolve().parents[2] / "handoff_console" / "static"
    found = [
        f"{path.name}: {match.group(0)}"
        for path in sorted(static.glob("*.js"))
        for match in INLINE_STYLE_FROM_SCRIPT.finditer(path.read_text())
    ]
    assert found == []


def test_the_session_cookie_is_secure_when_the_public_url_is_https(
    console: ConsoleServer,
) -> None:
    username = "alex"
    password = STAFF[username][2]
    reply = console.client().post_json(
        "/api/auth/login", {"username": username, "password": password}
    )
    assert reply.status == 200
    [cookie] = [c for c in reply.set_cookies() if c.startswith("ric_session=")]
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert "secure" in attributes
    assert "httponly" in attributes


def test_the_session_cookie_is_not_secure_on_a_plain_http_console(tmp_path: Path) -> None:
    from tests.handoff_console.conftest import _store

    store = _store(tmp_path)
    server = start_console(store.url, tmp_path / "console.log")
    try:
        reply = server.client().post_json(
            "/api/auth/login", {"username": "sam", "password": STAFF["sam"][2]}
        )
    finally:
        server.stop()
    assert reply.status == 200
    [cookie] = [c for c in reply.set_cookies() if c.startswith("ric_session=")]
    assert "secure" not in {part.strip().lower() for part in cookie.split(";")}
