"""Tokens stay off command lines and in 0600 files: issue 12, finding 6 (and 2's token)."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from launcher.rasa_server import MissingTokenError, rasa_argv, read_token
from launcher.services import all_services
from launcher.settings import ROOT, load_settings
from tests.system import RunningSystem

pytestmark = pytest.mark.defects


def test_no_service_is_started_with_a_token_in_its_arguments(tmp_path: Path) -> None:
    settings = dataclasses.replace(
        load_settings(tmp_path / "var"), rasa_token="rasa-Tok3n", actions_token="actions-Tok3n"
    )
    leaks = [
        (service.name, arg)
        for service in all_services(settings, tmp_path / "model.tar.gz")
        for arg in service.argv
        if "rasa-Tok3n" in arg or "actions-Tok3n" in arg
    ]
    assert leaks == []
    by_name = {service.name: service for service in all_services(settings, tmp_path / "m")}
    assert by_name["rasa"].env["RASA_AUTH_TOKEN"] == "rasa-Tok3n"
    assert by_name["rasa"].env["RIC_ACTIONS_TOKEN"] == "actions-Tok3n"
    assert by_name["actions"].env["RIC_ACTIONS_TOKEN"] == "actions-Tok3n"
    assert by_name["actions"].argv[1:] == ["-m", "actions.server"]


def test_generated_tokens_are_kept_in_private_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("RIC_ACTIONS_TOKEN", raising=False)
    first = load_settings(tmp_path / "var")
    secrets = tmp_path / "var" / "secrets"
    modes = {
        name: stat.S_IMODE((secrets / name).stat().st_mode)
        for name in ("rasa_token", "actions_token")
    }
    assert modes == {"rasa_token": 0o600, "actions_token": 0o600}
    assert first.rasa_token != first.actions_token
    again = load_settings(tmp_path / "var")
    assert (again.rasa_token, again.actions_token) == (first.rasa_token, first.actions_token)


def test_a_token_file_readable_by_others_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RIC_ACTIONS_TOKEN", raising=False)
    secrets = tmp_path / "var" / "secrets"
    secrets.mkdir(parents=True)
    (secrets / "actions_token").write_text("hand-made\n")
    (secrets / "actions_token").chmod(0o644)
    settings = load_settings(tmp_path / "var")
    assert settings.actions_token == "hand-made"
    assert stat.S_IMODE((secrets / "actions_token").stat().st_mode) == 0o600


def test_the_rasa_wrapper_reads_the_token_from_the_environment_or_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    assert read_token({"RASA_AUTH_TOKEN": "from-env"}) == "from-env"
    assert read_token({"RASA_AUTH_TOKEN_FILE": str(token_file)}) == "from-a-file"
    with pytest.raises(MissingTokenError):
        read_token({"RASA_AUTH_TOKEN": ""})
    with pytest.raises(MissingTokenError):
        rasa_argv(["run", "--auth-token", "visible"], "t")


def test_the_rasa_wrapper_refuses_to_start_rasa_without_a_token() -> None:
    env = {**os.environ, "RASA_AUTH_TOKEN": "", "RASA_AUTH_TOKEN_FILE": "", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "launcher.rasa_server", "run", "--enable-api"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, "never runs without a token" in result.stderr) == (1, True)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from ``/proc/<pid>/stat``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_line = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        parent = int(stat_line.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def command_line(pid: int) -> str:
    """What ``ps`` shows any local user: ``/proc/<pid>/cmdline``."""
    return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.rasa
def test_no_process_of_the_running_system_shows_a_token(system: RunningSystem) -> None:
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs Linux's /proc")
    rasa_token = system.token
    actions_token = (system.var_dir / "secrets" / "actions_token").read_text().strip()
    pids = [system.process.pid, *descendants(system.process.pid)]
    lines = {pid: command_line(pid) for pid in pids}
    modules = ["actions.server", "worker", "handoff_console", "launcher.rasa_server"]
    started = [m for m in modules if any(f"-m {m} " in f"{line} " for line in lines.values())]
    assert started == modules
    leaks = [pid for pid, line in lines.items() if rasa_token in line or actions_token in line]
    assert leaks == []
    # Rasa still got its token, through the environment.
    assert status(f"{system.rasa_url}/status") == 401
    assert status(f"{system.rasa_url}/status?token={rasa_token}") == 200
    # And the action server still answers Rasa: a custom action's answer in a turn.
    request = urllib.request.Request(
        f"{system.rasa_url}/conversations/secrets-check/trigger_intent?token={rasa_token}",
        data=json.dumps({"name": "library_hours"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as reply:
        answer = json.loads(reply.read())
    events = answer["tracker"]["events"]
    ran = [
        i for i, e in enumerate(events)
        if e["event"] == "action" and e.get("name") == "action_library_hours"
    ]  # fmt: skip
    # A custom action's messages follow its ActionExecuted; a refused call has none.
    assert [events[i + 1]["event"] for i in ran] == ["bot"]
    # Nor is either token in any log, although both were used above.
    logs = {path.name: path.read_text(errors="replace") for path in system.var_dir.glob("log/*")}
    leaked_to = [name for name, text in logs.items() if rasa_token in text or actions_token in text]
    assert leaked_to == []
