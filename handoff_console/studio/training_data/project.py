"""The Rasa project the studio edits: its YAML files, their versions, round-trip YAML.

The project is a folder laid out as ``bot/`` is: ``data/`` (NLU, rules, stories),
``domain/`` (or ``domain.yml``) and ``tests/``. Files are addressed by their path
relative to that folder (``data/nlu/faq_services.yml``). ruamel.yaml loads and dumps
them round-trip, so comments, key order and quoting survive an edit: every file of the
shipped ``bot/`` dumps back byte for byte.

A change to the project is a :data:`Changeset`: the new text of each file it touches
(None deletes a file). Nothing here writes on its own behalf: ``editor`` validates a
changeset first and then calls :meth:`BotProject.write`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.representer import RoundTripRepresenter

from handoff_console.services.errors import BadRequest, NotFound
from ric_config.studio import StudioConfig

__all__ = [
    "PROJECT_ROOT",
    "BotProject",
    "Changeset",
    "dump_yaml",
    "load_yaml",
    "text_version",
]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
"""The checkout: its ``bot/`` and ``config.yml`` are the defaults."""

Changeset = dict[str, str | None]
"""New text per project-relative path; None deletes the file."""

TOP_FOLDERS = ("data", "domain", "tests")
SUFFIXES = (".yml", ".yaml")
_SAFE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
MAX_FILE_BYTES = 2_000_000


def _represent_null(representer: RoundTripRepresenter, _data: None) -> Any:
    # Rasa's files spell null out (active_loop: null); ruamel would leave it empty.
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True  # type: ignore[assignment]
    yaml.width = 4096  # type: ignore[assignment]  # never fold a long response
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _represent_null)
    return yaml


def load_yaml(text: str) -> Any:
    """Load YAML text round-trip (comments and order kept); raises ruamel's YAMLError."""
    return _yaml().load(text)


def dump_yaml(data: Any) -> str:
    """Dump data loaded with :func:`load_yaml` in the project's layout."""
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def text_version(text: str | None) -> str:
    """The version (etag) of a file's or a resource's text: 16 hex digits of SHA-256."""
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class BotProject:
    """One Rasa project folder and the ``config.yml`` its validation uses.

    Attributes:
        root: The folder (``bot/`` by default).
        config_file: The Rasa pipeline and policies.
    """

    root: Path
    config_file: Path

    @classmethod
    def from_settings(cls, config: StudioConfig | None = None) -> BotProject:
        """The project named by ``RIC_STUDIO_BOT_DIR`` / ``RIC_STUDIO_CONFIG_FILE``."""
        config = config or StudioConfig()
        root = Path(config.studio_bot_dir or PROJECT_ROOT / "bot").resolve()
        config_file = Path(config.studio_config_file or PROJECT_ROOT / "config.yml").resolve()
        return cls(root, config_file)

    def display_root(self) -> str:
        """The folder as the pages name it: relative to the checkout when inside it."""
        if self.root.is_relative_to(PROJECT_ROOT):
            return self.root.relative_to(PROJECT_ROOT).as_posix() + "/"
        return str(self.root)

    @property
    def domain_path(self) -> Path:
        """``domain/`` if the project has that folder, else ``domain.yml``."""
        folder = self.root / "domain"
        return folder if folder.is_dir() else self.root / "domain.yml"

    def files(self) -> list[str]:
        """Every training-data, domain and test YAML file, sorted by path."""
        found = []
        for top in TOP_FOLDERS:
            folder = self.root / top
            if folder.is_dir():
                found += [
                    p.relative_to(self.root).as_posix()
                    for p in folder.rglob("*")
                    if p.is_file() and p.suffix in SUFFIXES and self.is_editable(p)
                ]
        if (self.root / "domain.yml").is_file():
            found.append("domain.yml")
        return sorted(found)

    def is_editable(self, path: Path) -> bool:
        """Whether ``path`` is a YAML file of the project the studio may read and write."""
        try:
            rel = path.relative_to(self.root).parts
        except ValueError:
            return False
        if rel == ("domain.yml",):
            return True
        return (
            len(rel) >= 2
            and rel[0] in TOP_FOLDERS
            and all(_SAFE_PART.match(part) for part in rel)
            and path.suffix in SUFFIXES
        )

    def path(self, rel: str, *, must_exist: bool = True) -> Path:
        """The file at project-relative ``rel``, refusing anything outside the project.

        Raises:
            BadRequest: ``bad_path``: not a YAML file under data/, domain/ or tests/.
            NotFound: ``no_such_file`` (when ``must_exist``).
        """
        parts = [part for part in rel.split("/") if part]
        candidate = self.root.joinpath(*parts) if parts else self.root
        if ".." in parts or "\x00" in rel or not self.is_editable(candidate):
            raise BadRequest(
                "bad_path",
                "Name a YAML file under data/, domain/ or tests/ of the training data, "
                "such as data/nlu/faq_services.yml.",
            )
        if must_exist and not candidate.is_file():
            raise NotFound("no_such_file", f"There is no file {rel} in the training data.")
        return candidate

    def read(self, rel: str) -> str:
        """The text of project file ``rel``."""
        return self.path(rel).read_text(encoding="utf-8")

    def texts(self) -> dict[str, str]:
        """The text of every project file, by path."""
        return {rel: (self.root / rel).read_text(encoding="utf-8") for rel in self.files()}

    def write(self, changes: Mapping[str, str | None]) -> None:
        """Write a changeset: each file replaced atomically, None deleting it."""
        for rel, text in changes.items():
            target = self.path(rel, must_exist=False)
            if text is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".studio-")
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.replace(temporary, target)

    @contextmanager
    def staged(self, changes: Mapping[str, str | None]) -> Iterator[BotProject]:
        """A throw-away copy of the project with ``changes`` applied, for validation."""
        with tempfile.TemporaryDirectory(prefix="ric-studio-") as directory:
            copy = BotProject(Path(directory) / self.root.name, self.config_file)
            copy.root.mkdir()
            for top in (*TOP_FOLDERS, "domain.yml"):
                source = self.root / top
                if source.is_dir():
                    shutil.copytree(source, copy.root / top)
                elif source.is_file():
                    shutil.copy2(source, copy.root / top)
            copy.write(changes)
            yield copy
