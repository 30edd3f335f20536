"""Every listening socket of the running system is one docs/security.md lists.

The launcher's children are found under ``/proc``; their listening TCP sockets are read
from ``/proc/net/tcp`` and ``tcp6`` by inode. With the default settings there must be
exactly three: Rasa, the action server and the console, each on loopback and on the
port its setting names (``RIC_RASA_PORT``, ``RIC_ACTIONS_PORT``, ``RIC_CONSOLE_PORT``);
the worker listens nowhere.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import pytest

from tests.system import RunningSystem

pytestmark = [
    pytest.mark.trust,
    pytest.mark.rasa,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

LISTEN = "0A"


def _children(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                frontier.append(child)
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with os.scandir(f"/proc/{pid}/fd") as fds:
        for fd in fds:
            try:
                target = os.readlink(fd.path)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _address(hex_address: str) -> tuple[str, int]:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = ipaddress.IPv4Address(raw[::-1])
    else:  # four little-endian 32-bit words
        ip = ipaddress.IPv6Address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
    return str(ip), int(port, 16)


def _listening() -> dict[str, tuple[str, int]]:
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN:
                sockets[fields[9]] = _address(fields[1])
    return sockets


def test_the_system_listens_only_where_its_settings_say(system: RunningSystem) -> None:
    listening = _listening()
    owned: dict[int, set[tuple[str, int]]] = {}
    for pid in _children(system.process.pid):
        try:
            inodes = _socket_inodes(pid)
        except OSError:
            continue
        addresses = {listening[i] for i in inodes if i in listening}
        if addresses:
            owned[pid] = addresses
    everything = set().union(*owned.values())
    assert everything == {
        ("127.0.0.1", system.rasa_port),
        ("127.0.0.1", system.actions_port),
        ("127.0.0.1", system.console_port),
    }
    assert len(owned) == 3  # one process each; the worker has no listening socket
