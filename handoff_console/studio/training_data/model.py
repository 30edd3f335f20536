"""The read side of the training data: intents, FAQ topics, examples, entities, responses.

:func:`snapshot` reads every project file once (round-trip YAML) into a
:class:`Snapshot`, which the edits change in place and turn back into a changeset with
:meth:`Snapshot.changes`: only the files whose data changed are dumped again, so an
edit leaves every other file byte for byte as it was.

Examples live in Rasa's block form (``examples: |`` and one ``- text`` per line); an
intent may have entries in several files (``faq_facilities.yml`` and
``variety_faq.yml``), and its examples keep their files.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from handoff_console.services.errors import BadRequest, NotFound
from handoff_console.studio.training_data.project import (
    BotProject,
    Changeset,
    dump_yaml,
    load_yaml,
    text_version,
)

__all__ = [
    "FAQ_PREFIX",
    "RESPONSE_PREFIX",
    "Example",
    "Snapshot",
    "block_text",
    "block_texts",
    "entities_in",
    "snapshot",
]

FAQ_PREFIX = "faq/"
"""Retrieval intents' labels: ``faq/<topic>``."""
RESPONSE_PREFIX = "utter_"
_MARKUP = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|\{(?P<json>[^}]*)\})")


@dataclass(frozen=True)
class Example:
    """One training example and the file it is written in."""

    text: str
    file: str


def block_texts(block: object) -> list[str]:
    """The examples of an ``examples: |`` block, one per ``- text`` line."""
    if not isinstance(block, str):
        return []
    texts = []
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            texts.append(stripped[2:].strip())
        elif stripped == "-":
            texts.append("")
    return texts


def block_text(texts: list[str]) -> LiteralScalarString:
    """An ``examples: |`` block of ``texts``."""
    return LiteralScalarString("".join(f"- {text}\n" for text in texts))


def entities_in(text: str) -> list[str]:
    """The entity names annotated in an example (``[text](entity)`` and JSON markup)."""
    names = []
    for match in _MARKUP.finditer(text):
        if match.group("entity"):
            names.append(match.group("entity").split(":")[0].strip())
        else:
            found = re.search(r'"entity"\s*:\s*"([^"]+)"', match.group("json") or "")
            if found:
                names.append(found.group(1))
    return names


@dataclass
class Snapshot:
    """Every project file's text and loaded data, at one moment.

    Attributes:
        project: The project read.
        texts: Each file's text as read.
        data: Each file's loaded YAML (changed in place by edits).
        touched: The files whose data an edit changed.
    """

    project: BotProject
    texts: dict[str, str]
    data: dict[str, Any]
    touched: set[str] = field(default_factory=set)

    # -- files -------------------------------------------------------------------------

    def nlu_files(self) -> list[str]:
        """Files with an ``nlu:`` list."""
        return [rel for rel, doc in self.data.items() if _section(doc, "nlu") is not None]

    def domain_files(self) -> list[str]:
        """The domain's files."""
        return [rel for rel in self.data if rel == "domain.yml" or rel.startswith("domain/")]

    def story_files(self) -> list[str]:
        """Files with ``rules:`` or ``stories:`` (data and test stories)."""
        return [
            rel
            for rel, doc in self.data.items()
            if _section(doc, "rules") is not None or _section(doc, "stories") is not None
        ]

    def touch(self, rel: str) -> None:
        """Mark a file's data as changed."""
        self.touched.add(rel)

    def changes(self) -> Changeset:
        """The new text of every touched file."""
        return {rel: dump_yaml(self.data[rel]) for rel in sorted(self.touched)}

    def add_file(self, rel: str, doc: Any) -> None:
        """Start a new project file with ``doc`` (already checked to be a new path)."""
        self.texts[rel] = ""
        self.data[rel] = doc
        self.touch(rel)

    # -- intents -----------------------------------------------------------------------

    def intent_entries(self, name: str | None = None) -> Iterator[tuple[str, Any]]:
        """``(file, entry)`` of every NLU intent entry (of ``name`` only, if given)."""
        for rel in self.nlu_files():
            for entry in _section(self.data[rel], "nlu") or []:
                named = isinstance(entry, dict) and "intent" in entry
                if named and (name is None or entry["intent"] == name):
                    yield rel, entry

    def examples(self) -> dict[str, list[Example]]:
        """Every intent's and FAQ topic's examples, by label, in file order."""
        found: dict[str, list[Example]] = {}
        for rel, entry in self.intent_entries():
            label = str(entry["intent"])
            found.setdefault(label, []).extend(
                Example(text, rel) for text in block_texts(entry.get("examples"))
            )
        return found

    def examples_of(self, name: str) -> list[Example]:
        """One intent's examples.

        Raises:
            NotFound: ``no_such_intent``.
        """
        found = [
            Example(text, rel)
            for rel, entry in self.intent_entries(name)
            for text in block_texts(entry.get("examples"))
        ]
        if not found and name not in self.domain_intents():
            raise NotFound("no_such_intent", f"There is no intent or FAQ topic {name!r}.")
        return found

    def intent_version(self, name: str) -> str:
        """The version of an intent: its examples, their files, and its FAQ answer."""
        parts = [f"{e.file}\t{e.text}" for e in self.examples_of(name)]
        if name.startswith(FAQ_PREFIX):
            parts.append(repr(self.response(RESPONSE_PREFIX + name, missing_ok=True)))
        return text_version("\n".join(parts))

    # -- domain ------------------------------------------------------------------------

    def domain_intents(self) -> dict[str, str]:
        """The domain's intents, each with the file that lists it."""
        found = {}
        for rel in self.domain_files():
            for item in _section(self.data[rel], "intents") or []:
                found[_item_name(item)] = rel
        return found

    def entities(self) -> list[str]:
        """The domain's entity names, sorted."""
        names = {
            _item_name(item)
            for rel in self.domain_files()
            for item in _section(self.data[rel], "entities") or []
        }
        return sorted(names)

    def responses(self) -> dict[str, str]:
        """Every response's name and the domain file that holds it."""
        found = {}
        for rel in self.domain_files():
            for name in _section(self.data[rel], "responses") or {}:
                found[str(name)] = rel
        return found

    def response(self, name: str, *, missing_ok: bool = False) -> Any:
        """A response's variations as loaded (None when missing and ``missing_ok``).

        Raises:
            NotFound: ``no_such_response``.
        """
        rel = self.responses().get(name)
        if rel is None:
            if missing_ok:
                return None
            raise NotFound("no_such_response", f"There is no response {name!r}.")
        return self.data[rel]["responses"][name]

    def response_version(self, name: str) -> str:
        """The version of one response: its variations as loaded."""
        return text_version(repr(_plain(self.response(name))))


def _section(doc: Any, key: str) -> Any:
    return doc.get(key) if isinstance(doc, dict) else None


def _item_name(item: Any) -> str:
    return str(next(iter(item)) if isinstance(item, dict) else item)


def _plain(value: Any) -> Any:
    """Loaded YAML as plain dicts, lists and strings (for stable versions)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if value is None or isinstance(value, bool | int | float) else str(value)


_read_only: dict[tuple[str, str], tuple[str, Any]] = {}
_read_only_guard = threading.Lock()


def snapshot(project: BotProject, *, read_only: bool = False) -> Snapshot:
    """Read and load every project file.

    Args:
        project: The project.
        read_only: For views that never change the data: each file's loaded YAML is
            reused while its text is unchanged (parsing every file takes about a second).
            An edit takes a fresh snapshot, whose data it may change.

    Raises:
        BadRequest: ``invalid_yaml``: a file on disk is not valid YAML (someone edited
            it by hand); it names the file and the line.
    """
    texts = project.texts()
    data = {}
    for rel, text in texts.items():
        key = (str(project.root), rel)
        with _read_only_guard:
            cached = _read_only.get(key) if read_only else None
        if cached is not None and cached[0] == text:
            data[rel] = cached[1]
            continue
        try:
            data[rel] = load_yaml(text)
        except YAMLError as error:
            raise BadRequest("invalid_yaml", f"{rel} is not valid YAML: {error}") from error
        if read_only:
            with _read_only_guard:
                _read_only[key] = (text, data[rel])
    return Snapshot(project, texts, data)
