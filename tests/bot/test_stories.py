"""Conversation tests: the test stories and the training data, checked by Rasa itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.training import ensure_model
from tests.system import RunningSystem

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.rasa


def test_training_data_is_valid_without_warnings_that_fail() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "data",
            "validate",
            "--domain",
            "bot/domain",
            "--data",
            "bot/data",
            "--config",
            "config.yml",
            "--fail-on-warnings",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_test_story_passes(system: RunningSystem, tmp_path: Path) -> None:
    """`rasa test core` against the running action server, failing on any wrong prediction."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RIC_ACTION_ENDPOINT": f"http://127.0.0.1:{system.actions_port}/webhook",
        "RIC_ACTIONS_TOKEN": (system.var_dir / "secrets" / "actions_token").read_text().strip(),
        "RIC_TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'test-tracker.db'}",
        "RIC_DATABASE_URL": system.database_url,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(ensure_model()),
            "--stories",
            "bot/tests",
            "--endpoints",
            "endpoints.yml",
            "--out",
            str(tmp_path / "results"),
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = (
        failed.read_text() if failed.exists() else result.stdout[-4000:] + result.stderr[-4000:]
    )
    assert result.returncode == 0, detail
