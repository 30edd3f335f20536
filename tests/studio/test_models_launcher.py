"""Which model ``./ric up`` starts Rasa with (``launcher.training.startup_model``).

A real registry folder (``RIC_MODEL_REGISTRY`` points at a tmp dir); the "cached model"
is a file standing in for the launcher's trained model (only copied here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_console.studio.models import ModelRegistry
from launcher.training import startup_model

pytestmark = pytest.mark.studio


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelRegistry:
    monkeypatch.setenv("RIC_MODEL_REGISTRY", str(tmp_path / "registry"))
    return ModelRegistry(tmp_path / "registry")


def _cached(tmp_path: Path, data_hash: str) -> Path:
    path = tmp_path / f"ric-{data_hash}.tar.gz"
    path.write_bytes(f"model for {data_hash}".encode())
    return path


def test_the_launcher_model_follows_the_data_until_an_admin_chooses(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    first, which = startup_model(_cached(tmp_path, "aaaa"), "aaaa")
    assert (first.name, which) == ("v1.tar.gz", "v1, the project's data version aaaa")
    assert first.read_bytes() == b"model for aaaa"
    active = registry.active()
    assert active is not None and (active.number, active.how) == (1, "launcher")
    assert registry.get(1).source == "launcher"
    assert registry.snapshot_of(1) is not None

    again, _ = startup_model(_cached(tmp_path, "aaaa"), "aaaa")
    assert again.name == "v1.tar.gz" and len(registry.versions()) == 1

    changed, _ = startup_model(_cached(tmp_path, "bbbb"), "bbbb")
    assert changed.name == "v2.tar.gz"
    active = registry.active()
    assert active is not None and (active.number, active.previous) == (2, 1)

    registry.set_active(1, "ada", "rollback")  # an admin's choice survives a restart
    kept, which = startup_model(_cached(tmp_path, "cccc"), "cccc")
    assert (kept.name, which) == ("v1.tar.gz", "v1, made live by ada")
    assert len(registry.versions()) == 2

    (registry.root / "v1.tar.gz").unlink()  # the chosen model is gone: the data's model
    fallback, _ = startup_model(_cached(tmp_path, "cccc"), "cccc")
    assert fallback.name == "v3.tar.gz"
