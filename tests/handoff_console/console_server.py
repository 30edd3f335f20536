"""Run the real console (``python -m handoff_console``) on a free port and talk HTTP to it.

sanic-testing is not installed, so the tests start the console exactly as the
launcher does, in a subprocess, and speak plain HTTP with ``http.client`` (which,
unlike urllib, never follows redirects, so the tests see every 302/303).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.system import ROOT, free_port


@dataclass
class Reply:
    """One HTTP response, read completely."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    def set_cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []

    def cookie(self, name: str) -> str | None:
        for raw in self.set_cookies():
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            if name in jar:
                return jar[name].value
        return None


@dataclass
class Client:
    """An HTTP client with a one-site cookie jar, enough for the console's session cookie."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies and "Cookie" not in sent:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            reply = Reply(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
        for line in reply.set_cookies():
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post_json(self, path: str, data: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.request(
            "POST",
            path,
            body=json.dumps(data).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def post_form(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> Reply:
        return self.request(
            "POST",
            path,
            body=urlencode(data).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )


@dataclass
class ConsoleServer:
    """A running console process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def client(self) -> Client:
        return Client(self.port)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def start_console(
    database_url: str,
    log_path: Path,
    timeout: float = 60.0,
    rasa_url: str | None = None,
    rasa_token: str = "",
    extra_env: dict[str, str] | None = None,
) -> ConsoleServer:
    """Start ``python -m handoff_console`` on a free port and wait until /healthz answers.

    Without ``rasa_url`` the console points at a port nobody listens on: it must not
    need Rasa to authenticate. ``extra_env`` adds settings (``RIC_TRUSTED_PROXIES``…).
    """
    port = free_port()
    env = {
        **os.environ,
        "RIC_DATABASE_URL": database_url,
        "RIC_CONSOLE_PORT": str(port),
        "RIC_BIND_HOST": "127.0.0.1",
        "RIC_RASA_URL": rasa_url or f"http://127.0.0.1:{free_port()}",
        "RASA_AUTH_TOKEN": rasa_token,
        **(extra_env or {}),
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "handoff_console"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = ConsoleServer(process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"console exited with {process.returncode}:\n{server.log()}")
        try:
            if server.client().get("/healthz").status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"console did not start within {timeout} s:\n{server.log()}")
