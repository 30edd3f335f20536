"""Train the Rasa model once per data version and cache it.

The cache key is a SHA-256 over the Rasa version, ``config.yml``, and every file under
``bot/domain``, ``bot/data`` and ``nlu_components`` (the custom components' code shapes
the model too; compiled ``__pycache__`` files are left out). A model whose key matches is
reused; anything else is retrained. The cache lives outside the checkout so clean clones on the same
machine (CI) reuse it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

from launcher.supervisor import RotatingLog
from ric_config import LauncherConfig, LogConfig

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TRAINING_INPUTS = ("config.yml", "bot/domain", "bot/data", "nlu_components")


def model_cache_dir() -> Path:
    """Return the model cache folder (``RIC_MODEL_CACHE`` or ``~/.cache/...``)."""
    config = LauncherConfig()
    if config.model_cache:
        return Path(config.model_cache)
    base = Path(config.xdg_cache_home or Path.home() / ".cache")
    return base / "reader-interaction-center" / "models"


def _training_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for entry in TRAINING_INPUTS:
        path = root / entry
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )
        elif path.is_file():
            files.append(path)
    return files


def training_hash(root: Path = ROOT) -> str:
    """Hash the training data, domain, config and Rasa version."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    digest.update(f"rasa=={version('rasa')}\n".encode())
    for path in _training_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\x00")
        digest.update(path.read_bytes())
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def ensure_model(root: Path = ROOT, log_path: Path | None = None) -> Path:
    """Return the path of a model trained on the current data, training it if needed.

    Concurrent callers (the run command and the test suite) wait on a file lock
    instead of training twice.
    """
    cache = model_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    key = training_hash(root)
    model = cache / f"ric-{key}.tar.gz"
    if model.exists():
        return model
    with open(cache / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if model.exists():
            return model
        logger.info("training model %s (data changed or no cached model)", key)
        command = [
            sys.executable, "-m", "rasa", "train",
            "--config", str(root / "config.yml"),
            "--domain", str(root / "bot" / "domain"),
            "--data", str(root / "bot" / "data"),
            "--out", str(cache),
            "--fixed-model-name", f"ric-{key}",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(root)}  # passed on to the child, not read
        if log_path is not None:
            # Rotated by size like every process's log (RIC_LOG_MAX_BYTES, docs/security.md).
            config = LogConfig()
            log = RotatingLog(log_path, config.log_max_bytes, config.log_backup_count)
            process = subprocess.Popen(
                command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            assert process.stdout is not None
            pump = log.pump(process.stdout)
            code = process.wait()
            pump.join()
            log.close()
            if code != 0:
                raise subprocess.CalledProcessError(code, command)
        else:
            subprocess.run(command, cwd=root, env=env, check=True)
    if not model.exists():
        raise RuntimeError(f"rasa train finished but {model} is missing")
    return model


def startup_model(cache_model: Path, data_hash: str, root: Path = ROOT) -> tuple[Path, str]:
    """The model ``./ric up`` starts Rasa with, from the studio's model registry.

    The version an admin made live (studio or ``./ric nlu activate``, or a roll back)
    stays live across restarts. Otherwise the launcher's own model, trained for the
    project's current data (``cache_model``), is the live version: it is added to the
    registry (once per data hash) and recorded as active, so that the studio can
    compare with it and roll back to it.

    Returns:
        The model file and a line saying which version it is.
    """
    from handoff_console.studio.models import TrainingInputs, UnknownVersion
    from handoff_console.studio.models.settings import ModelsSettings

    registry = ModelsSettings.from_env().registry
    active = registry.active()
    if active is not None and active.how != "launcher":
        try:
            chosen = registry.get(active.number)
        except UnknownVersion:
            logger.warning("the active model %s is gone from %s", active.label, registry.root)
        else:
            return chosen.path, f"{chosen.label}, made live by {active.activated_by}"
    same = [v for v in registry.versions() if v.source == "launcher" and v.data_hash == data_hash]
    version = same[-1] if same else None
    if version is None:
        inputs = TrainingInputs(root / "config.yml", root / "bot")
        version = registry.add(
            cache_model, inputs, source="launcher", data_hash=data_hash, created_by="launcher"
        )
    if active is None or active.number != version.number:
        registry.set_active(version.number, "launcher", "launcher")
    return version.path, f"{version.label}, the project's data version {data_hash}"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(ensure_model())
