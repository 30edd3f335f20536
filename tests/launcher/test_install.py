"""The installer refuses unsupported Pythons and is a fast no-op the second time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install.sh"


def run_install(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        ["bash", str(INSTALL)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_second_install_is_a_no_op() -> None:
    first = run_install({})
    assert first.returncode == 0, first.stderr
    again = run_install({})
    assert again.returncode == 0
    assert again.stdout == "" and "Installing" not in again.stderr


@pytest.mark.parametrize("version", ["3.12", "3.9"])
def test_unsupported_python_stops_with_a_clear_message(tmp_path: Path, version: str) -> None:
    fake = tmp_path / f"python{version}"
    major, minor = version.split(".")
    fake.write_text(
        "#!/bin/sh\n"
        f'exec /usr/bin/env python3 -c "import sys; sys.version_info = ({major}, {minor}, 0)'
        '; exec(sys.argv[1])" "$2"\n'
    )
    fake.chmod(0o755)
    result = run_install({"RIC_PYTHON": str(fake)})
    assert result.returncode == 2
    assert f"needs Python 3.10 or 3.11 (Rasa 3.6), but {fake} is Python {version}" in result.stderr


def test_missing_interpreter_is_reported() -> None:
    result = run_install({"RIC_PYTHON": "/nonexistent/python3.11"})
    assert result.returncode == 2
    assert "was not found" in result.stderr
