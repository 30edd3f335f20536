"""The action server refuses forged calls: issue 12, finding 2.

The server is started exactly as the launcher starts it (``launcher.services.actions_service``
under the supervisor), and the finding's call is forged against it: a tracker whose slots
say ``pin_check: verified`` for another reader's ``patron_id``.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.server import ActionServerConfigError, ActionServerSettings
from launcher.services import actions_service
from launcher.settings import Settings, load_settings
from launcher.supervisor import ServiceSpec, Supervisor
from tests.system import RunningSystem, free_port

pytestmark = pytest.mark.defects

# What the finding's attacker sent: Ada's loans, without her card or PIN.
FORGED_CALL: dict[str, Any] = {
    "next_action": "action_resume_account_request",
    "sender_id": "attacker",
    "version": "3.6.21",
    "tracker": {
        "sender_id": "attacker",
        "slots": {
            "pin_check": "verified",
            "patron_id": "p1001",
            "verified_at": 9_999_999_999,
            "pending_request": {"intent": "check_loans", "text": "my loans", "entities": []},
        },
        "latest_message": {"text": "my loans", "intent": {"name": "check_loans"}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
    "domain": {},
}
ADA_LOANS = "You have 4 items on loan, 1 overdue"


@dataclasses.dataclass
class RunningActions:
    settings: Settings
    service: ServiceSpec

    @property
    def base(self) -> str:
        return self.settings.actions_base_url


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningActions]:
    """The action server as ``./ric up`` starts it, on a free port with its own var folder."""
    var = tmp_path_factory.mktemp("actions-var")
    settings = dataclasses.replace(
        load_settings(var), actions_port=free_port(), actions_token="right-token-Zq9"
    )
    service = actions_service(settings)
    supervisor = Supervisor([service], max_restarts=0)
    supervisor.start_all()
    try:
        supervisor.wait_ready(timeout=180, progress=lambda _: None)
        yield RunningActions(settings, service)
    finally:
        supervisor.stop()


def call(
    url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Send a request; return the status and the body, whatever the status."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST" if data is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_forged_call_without_a_token_is_refused(action_server: RunningActions) -> None:
    status, body = call(f"{action_server.base}/webhook", FORGED_CALL)
    assert (status, ADA_LOANS in body) == (401, False)


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?token=wrong-token", {}),
        ("", {"Authorization": "Bearer wrong-token"}),
        ("?token=", {}),
        ("?token=right-token-Zq", {}),  # a prefix of the right one
        ("?token=right-token-Zq9", {"Authorization": "Bearer wrong-token"}),  # header wins
    ],
)
def test_the_forged_call_with_a_wrong_token_is_refused(
    action_server: RunningActions, query: str, headers: dict[str, str]
) -> None:
    status, body = call(f"{action_server.base}/webhook{query}", FORGED_CALL, headers)
    assert (status, ADA_LOANS in body) == (401, False)


def test_rasa_s_call_with_the_right_token_runs_the_action(action_server: RunningActions) -> None:
    """Rasa sends the token as ``?token=`` (``EndpointConfig.token``); a bearer header works too."""
    for query, headers in [
        (f"?token={action_server.settings.actions_token}", {}),
        ("", {"Authorization": f"Bearer {action_server.settings.actions_token}"}),
    ]:
        status, body = call(f"{action_server.base}/webhook{query}", FORGED_CALL, headers)
        assert (status, ADA_LOANS in json.loads(body)["responses"][0]["text"]) == (200, True)


def test_rasa_s_endpoint_config_reaches_the_server(action_server: RunningActions) -> None:
    """Through Rasa's own client, configured as endpoints.yml configures it."""
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    from tests.aio import run

    def endpoint(token: str | None) -> EndpointConfig:
        return EndpointConfig(url=action_server.settings.actions_url, token=token)

    right = run(
        endpoint(action_server.settings.actions_token).request(json=FORGED_CALL, method="post")
    )
    assert ADA_LOANS in right["responses"][0]["text"]
    with pytest.raises(ClientResponseError) as refused:
        run(endpoint(None).request(json=FORGED_CALL, method="post"))
    assert refused.value.status == 401


def test_every_other_route_needs_the_token_too(action_server: RunningActions) -> None:
    assert call(f"{action_server.base}/actions")[0] == 401
    status, body = call(f"{action_server.base}/actions?token=right-token-Zq9")
    assert (status, {"name": "action_resume_account_request"} in json.loads(body)) == (200, True)


def test_health_stays_open_and_says_nothing_else(action_server: RunningActions) -> None:
    assert call(f"{action_server.base}/health") == (200, '{"status":"ok"}')


def listening_addresses(port: int) -> list[tuple[str, str]]:
    """(table, local address in kernel hex) of every socket listening on ``port``."""
    found = []
    for table in ("tcp", "tcp6"):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append((table, address))
    return found


def test_it_listens_on_loopback_only(action_server: RunningActions) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux's /proc/net/tcp")
    assert action_server.settings.actions_host == "127.0.0.1"
    assert listening_addresses(action_server.settings.actions_port) == [("tcp", "0100007F")]


def test_it_refuses_to_start_without_a_token() -> None:
    with pytest.raises(ActionServerConfigError, match="RIC_ACTIONS_TOKEN"):
        ActionServerSettings(token="  ")


def test_the_bind_address_and_token_are_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from launcher.settings import process_environment

    monkeypatch.setenv("RIC_ACTIONS_HOST", "0.0.0.0")
    monkeypatch.setenv("RIC_ACTIONS_TOKEN", "from-the-environment")
    settings = load_settings(tmp_path / "var")
    env = process_environment(settings)
    assert (env["RIC_ACTIONS_HOST"], env["RIC_ACTIONS_TOKEN"]) == (
        "0.0.0.0",
        "from-the-environment",
    )
    assert env["RIC_ACTION_ENDPOINT"] == f"http://127.0.0.1:{settings.actions_port}/webhook"
    monkeypatch.setenv("RIC_ACTIONS_PORT", env["RIC_ACTIONS_PORT"])
    assert ActionServerSettings.from_env() == ActionServerSettings(
        token="from-the-environment", host="0.0.0.0", port=settings.actions_port
    )


@pytest.mark.rasa
def test_the_console_still_sees_the_action_server_up(system: RunningSystem) -> None:
    """The console checks ``/health`` without the token; it must still say "up"."""
    with urllib.request.urlopen(f"{system.console_url}/api/health", timeout=30) as reply:
        services = {s["name"]: s["status"] for s in json.loads(reply.read())["services"]}
    assert services["Action server"] == "up"


def test_a_keep_alive_request_does_not_inherit_the_last_calls_conversation(
    action_server: RunningActions,
) -> None:
    """Sanic serves one connection's requests in one task; each starts about no conversation."""
    sender = f"keepalive-{time.monotonic_ns()}"
    body = {**FORGED_CALL, "sender_id": sender, "tracker": {**FORGED_CALL["tracker"]}}
    body["tracker"]["sender_id"] = sender
    host, port = action_server.base.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        for token in ("right-token-Zq9", "wrong-token"):
            connection.request(
                "POST",
                "/webhook",
                json.dumps(body),
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            connection.getresponse().read()
    finally:
        connection.close()
    log_path = action_server.service.log_path
    assert log_path is not None
    refusal: list[str] = []
    deadline = time.monotonic() + 20
    while not refusal and time.monotonic() < deadline:
        lines = log_path.read_text(errors="replace").splitlines()
        refusal = [line for line in lines if "refused POST /webhook" in line]
        time.sleep(0.2)
    assert refusal, "the refused call was not logged"
    assert sender not in refusal[-1]
