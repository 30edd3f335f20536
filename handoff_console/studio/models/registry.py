"""The model registry: every trained model version, its evaluation, and which one is live.

A folder (``RIC_MODEL_REGISTRY``, by default ``$RIC_VAR_DIR/models``) holds, per version
``N``:

``vN.tar.gz``
    the Rasa model; the file name is what Rasa's ``GET /status`` reports as
    ``model_file``, so the live model is found by name;
``vN.json``
    its manifest (:class:`ModelVersion`): when and by whom it was made, the hash of its
    training inputs, and its evaluation once there is one;
``vN.data.tar.gz``
    a snapshot of its training inputs (``config.yml``, ``data/``, ``domain``), so that
    a version with no evaluation can still be cross-validated later.

``active.json`` names the version an admin (or the launcher) made live, and the one live
before it (what "Roll back" restores); ``activations.jsonl`` keeps every change of it.
Numbers are handed out under a file lock, so the console and the CLI never collide.

Its public names are exported by the package (``handoff_console.studio.models.__all__``).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crm_store import clock

_VERSION = re.compile(r"^v?(\d{1,9})$")


class RegistryError(Exception):
    """Base class of the registry's errors.

    The tree::

        RegistryError
        └── UnknownVersion   no such version in the registry
    """


class UnknownVersion(RegistryError):
    """The registry has no such version."""


def parse_version(text: str) -> int:
    """``"v3"`` or ``"3"`` → 3.

    Raises:
        UnknownVersion: ``text`` is not a version number.
    """
    match = _VERSION.match(text.strip())
    if match is None or int(match.group(1)) < 1:
        raise UnknownVersion(f"{text!r} is not a model version (write it as v3 or 3)")
    return int(match.group(1))


@dataclass(frozen=True)
class TrainingInputs:
    """The Rasa project a model is trained from.

    Attributes:
        config: the pipeline and policies (``config.yml``).
        bot_dir: the folder with ``data/`` and ``domain/`` (or ``domain.yml``).
    """

    config: Path
    bot_dir: Path

    @property
    def data(self) -> Path:
        """The training data folder."""
        return self.bot_dir / "data"

    @property
    def domain(self) -> Path:
        """The domain folder, or ``domain.yml`` when the project has a single file."""
        folder = self.bot_dir / "domain"
        return folder if folder.exists() else self.bot_dir / "domain.yml"

    def snapshot(self, target: Path) -> None:
        """Write ``config.yml``, ``data/`` and the domain into the archive ``target``."""
        with tarfile.open(target, "w:gz") as archive:
            archive.add(self.config, arcname="config.yml")
            archive.add(self.data, arcname="data")
            archive.add(self.domain, arcname=self.domain.name)

    @classmethod
    def unpack(cls, archive_path: Path, target: Path) -> TrainingInputs:
        """Unpack a snapshot made by :meth:`snapshot` into ``target``."""
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(target, filter="data")
        return cls(target / "config.yml", target)


@dataclass
class ModelVersion:
    """One trained model in the registry (its manifest, ``vN.json``)."""

    number: int
    created_at: datetime
    source: str
    data_hash: str
    created_by: str | None = None
    note: str = ""
    evaluation: dict[str, Any] | None = None
    path: Path = field(default=Path(), compare=False)

    @property
    def label(self) -> str:
        """``v3``."""
        return f"v{self.number}"

    @property
    def file_name(self) -> str:
        """The model file's name, as Rasa reports it."""
        return f"{self.label}.tar.gz"

    def manifest(self) -> dict[str, Any]:
        """The JSON of ``vN.json``."""
        values = asdict(self)
        values.pop("path")
        values["created_at"] = self.created_at.isoformat()
        return values

    @classmethod
    def from_manifest(cls, values: dict[str, Any], path: Path) -> ModelVersion:
        """Read a manifest written by :meth:`manifest`."""
        values = dict(values)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values, path=path)


@dataclass(frozen=True)
class ActiveModel:
    """Which version is live (``active.json``) and which one was live before it."""

    number: int
    activated_at: datetime
    activated_by: str
    previous: int | None
    how: str

    @property
    def label(self) -> str:
        """``v3``."""
        return f"v{self.number}"

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        values = asdict(self)
        values["activated_at"] = self.activated_at.isoformat()
        return values


class ModelRegistry:
    """The registry folder; every method reads the files afresh (the CLI may write too).

    Args:
        root: The folder; created on first write.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".registry.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _write_json(self, path: Path, values: dict[str, Any]) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(values, indent=1, sort_keys=True))
        os.replace(temporary, path)

    def versions(self) -> list[ModelVersion]:
        """Every version, oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for manifest in self.root.glob("v*.json"):
            if _VERSION.match(manifest.stem):
                model = manifest.with_name(manifest.stem + ".tar.gz")
                found.append(ModelVersion.from_manifest(json.loads(manifest.read_text()), model))
        return sorted(found, key=lambda version: version.number)

    def get(self, number: int) -> ModelVersion:
        """One version.

        Raises:
            UnknownVersion: There is no such version (or its model file is gone).
        """
        manifest = self.root / f"v{number}.json"
        model = self.root / f"v{number}.tar.gz"
        if not manifest.is_file() or not model.is_file():
            raise UnknownVersion(f"there is no model v{number} in {self.root}")
        return ModelVersion.from_manifest(json.loads(manifest.read_text()), model)

    def by_file_name(self, file_name: str | None) -> ModelVersion | None:
        """The version whose model file is called ``file_name`` (Rasa's ``model_file``)."""
        match = re.match(r"^v(\d+)\.tar\.gz$", Path(file_name or "").name)
        if match is None:
            return None
        try:
            return self.get(int(match.group(1)))
        except UnknownVersion:
            return None

    def add(
        self,
        model_file: Path,
        inputs: TrainingInputs,
        *,
        source: str,
        data_hash: str,
        created_by: str | None = None,
        note: str = "",
        evaluation: dict[str, Any] | None = None,
    ) -> ModelVersion:
        """Copy a trained model and a snapshot of its inputs in as the next version.

        Args:
            model_file: The trained model (copied, not moved).
            inputs: What it was trained from (snapshotted).
            source: ``studio``, ``cli`` or ``launcher``.
            data_hash: The hash of its training inputs.
            created_by: Who asked for it (an admin's username, a system user).
            note: A free-text note.
            evaluation: Its evaluation, when already made.
        """
        with self._locked():
            number = max((v.number for v in self.versions()), default=0) + 1
            path = self.root / f"v{number}.tar.gz"
            shutil.copyfile(model_file, path.with_suffix(".part"))
            os.replace(path.with_suffix(".part"), path)
            inputs.snapshot(self.root / f"v{number}.data.tar.gz")
            version = ModelVersion(
                number, clock.now(), source, data_hash, created_by, note, evaluation, path
            )
            self._write_json(self.root / f"v{number}.json", version.manifest())
        return version

    def set_evaluation(self, number: int, evaluation: dict[str, Any]) -> ModelVersion:
        """Record a version's evaluation in its manifest."""
        with self._locked():
            version = self.get(number)
            version.evaluation = evaluation
            self._write_json(self.root / f"v{number}.json", version.manifest())
        return version

    def snapshot_of(self, number: int) -> Path | None:
        """The training-input snapshot of a version, if it has one."""
        path = self.root / f"v{number}.data.tar.gz"
        return path if path.is_file() else None

    def active(self) -> ActiveModel | None:
        """The live version as last recorded, or None before the first activation."""
        path = self.root / "active.json"
        if not path.is_file():
            return None
        values = json.loads(path.read_text())
        values["activated_at"] = datetime.fromisoformat(values["activated_at"])
        return ActiveModel(**values)

    def set_active(self, number: int, activated_by: str, how: str) -> ActiveModel:
        """Record ``number`` as live; the one live before becomes ``previous``.

        Args:
            number: The version now live.
            activated_by: Who made it live.
            how: ``activate``, ``override``, ``rollback`` or ``launcher``.

        Raises:
            UnknownVersion: There is no such version.
        """
        with self._locked():
            self.get(number)
            current = self.active()
            previous = current.number if current and current.number != number else None
            if current is not None and current.number == number:
                previous = current.previous
            active = ActiveModel(number, clock.now(), activated_by, previous, how)
            self._write_json(self.root / "active.json", active.as_json())
            with open(self.root / "activations.jsonl", "a") as log:
                log.write(json.dumps(active.as_json(), sort_keys=True) + "\n")
        return active

    def activations(self) -> list[ActiveModel]:
        """Every activation, oldest first."""
        path = self.root / "activations.jsonl"
        if not path.is_file():
            return []
        found = []
        for line in path.read_text().splitlines():
            values = json.loads(line)
            values["activated_at"] = datetime.fromisoformat(values["activated_at"])
            found.append(ActiveModel(**values))
        return found
