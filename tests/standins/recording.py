"""What the HTTP stand-ins share: a loopback server and a log of the calls it received."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, TypeVar


class RecordedCall(Protocol):
    """A call a stand-in received: the API method and its parameters."""

    @property
    def method(self) -> str:
        """The API method called."""
        ...

    @property
    def params(self) -> Mapping[str, Any]:
        """Its parameters, as sent."""
        ...


C = TypeVar("C", bound=RecordedCall)


class LoopbackServer:
    """A threading HTTP server on a free loopback port, served from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """``http://<host>:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()


class CallLog(Generic[C]):
    """Calls in arrival order, with waiting; ``target`` filters on one parameter."""

    def __init__(self, target_param: str) -> None:
        self.target_param = target_param
        self.calls: list[C] = []
        self._changed = threading.Condition()

    def record(self, call: C) -> None:
        """Remember a call and wake up anyone waiting for one."""
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def made(self, method: str, target: str | None = None) -> list[C]:
        """Calls of ``method`` so far (whose target parameter is ``target``, if given)."""
        with self._changed:
            return [
                c
                for c in self.calls
                if c.method == method
                and (target is None or c.params.get(self.target_param) == target)
            ]

    def wait_for(
        self,
        method: str,
        target: str | None = None,
        count: int = 1,
        timeout: float = 30.0,
        where: Callable[[C], bool] | None = None,
    ) -> list[C]:
        """Wait until ``count`` matching calls were made; return them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.made(method, target) if where is None or where(c)]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self._changed.wait(remaining)
