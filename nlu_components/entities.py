"""The library's entity extractor: titles, authors, formats, branches, emails, cards and dates.

`LibraryEntityExtractor` is a Rasa 3.6 graph component (an entity extractor with no
training). It adds, for every message, the entities that the assistant's actions read:

============  =================================================  ====================
entity        example                                            value
============  =================================================  ====================
book_query    "do you have Cry, the Beloved Country by ..."      the title, commas kept
author        "... by Alan Paton"                                "Alan Paton"
book_format   "the audiobook", "large print", "paperback"        book, ebook, audiobook,
                                                                 large_print, dvd
book_format   "not the ebook" (role ``excluded``)                "ebook"
branch        "Northside", "the main library"                    branch id from the profile
email         "ada@example.org"                                  lower-cased address
card_number   "card is 2123 4000 1234 56"                        the 14 digits
date          "by Friday" (role ``deadline``), "next week"       ISO date
============  =================================================  ====================

A PIN is never an entity: it would be saved with the parse data. The component runs
after a learned or regex extractor (see :meth:`LibraryEntityExtractor.process` for how
overlapping entities are merged) and before ``EntitySynonymMapper``. Dates are resolved
against ``crm_store.clock`` in the library's timezone, so tests can travel in time.

Config: ``profile_path`` (default ``$RIC_LIBRARY_PROFILE`` or ``bot/library_profile.yml``):
where branch names, aliases and the timezone are read.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from crm_store import clock
from nlu_components._stateless import StatelessComponent
from nlu_components.entity_patterns import (
    Found,
    find_branches,
    find_card_numbers,
    find_dates,
    find_emails,
    find_formats,
    find_title_and_author,
)
from ric_config import LibraryConfig

logger = logging.getLogger(__name__)

KEEP_EXISTING = frozenset({"branch"})
"""Entity types where an earlier extractor's entity is kept over an overlapping one here."""

DEFAULT_PROFILE = Path(__file__).resolve().parent.parent / "bot" / "library_profile.yml"


def branch_aliases(profile: dict[str, Any]) -> dict[str, str]:
    """Lower-case branch names and aliases -> branch id, from a parsed library profile."""
    aliases: dict[str, str] = {}
    for branch in profile.get("branches") or []:
        branch_id = str(branch.get("id") or "").strip()
        if not branch_id:
            continue
        names = [branch_id, branch.get("name"), branch.get("short_name")]
        names += list(branch.get("aliases") or [])
        for name in names:
            if name:
                key = " ".join(str(name).lower().split())
                aliases[key] = branch_id
                if not key.startswith("the "):
                    aliases[f"the {key}"] = branch_id
    return aliases


def _load_profile(path: str | None) -> dict[str, Any]:
    chosen = Path(path or LibraryConfig().library_profile or DEFAULT_PROFILE)
    try:
        loaded = yaml.safe_load(chosen.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        logger.exception("could not read the library profile %s; no branch entities", chosen)
        return {}
    return loaded if isinstance(loaded, dict) else {}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LibraryEntityExtractor(StatelessComponent, EntityExtractorMixin):
    """Adds the library's entities (see the module docstring) to every message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {"profile_path": None}

    def __init__(self, config: dict[str, Any]) -> None:
        """Reads the branch aliases and timezone from the library profile."""
        super().__init__(config)
        profile = _load_profile(self.component_config.get("profile_path"))
        self.aliases = branch_aliases(profile)
        zone = str((profile.get("library") or {}).get("timezone") or "UTC")
        self.timezone = ZoneInfo(zone)

    def extract(self, text: str) -> list[dict[str, Any]]:
        """The entities in ``text``, as Rasa entity dictionaries."""
        today = clock.now().astimezone(self.timezone).date()
        title, author = find_title_and_author(text)
        found: list[tuple[str, Found]] = [
            *(("book_format", f) for f in find_formats(text)),
            *(("branch", f) for f in find_branches(text, self.aliases)),
            *(("email", f) for f in find_emails(text)),
            *(("card_number", f) for f in find_card_numbers(text)),
            *(("date", f) for f in find_dates(text, today)),
        ]
        if title is not None:
            # A title ends before a branch or format named after it ("... at Northside").
            clash = [f for _, f in found if f.start < title.end and title.start < f.end]
            if not clash:
                found.append(("book_query", title))
        if author is not None:
            found.append(("author", author))
        entities = []
        for entity_type, item in sorted(found, key=lambda pair: pair[1].start):
            entity: dict[str, Any] = {
                ENTITY_ATTRIBUTE_TYPE: entity_type,
                ENTITY_ATTRIBUTE_START: item.start,
                ENTITY_ATTRIBUTE_END: item.end,
                ENTITY_ATTRIBUTE_VALUE: item.value,
                EXTRACTOR: self.__class__.__name__,
            }
            if item.role:
                entity[ENTITY_ATTRIBUTE_ROLE] = item.role
            entities.append(entity)
        return entities

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the entities to each message.

        Where an earlier extractor (a CRF, or Rasa's regex extractor) found an entity
        of the same type over the same words, a ``branch`` is left as it was (synonyms
        map it) and the other types are replaced by this component's, whose spans and
        values are rule-based: a learned ``book_query`` often stops at a title's comma.
        """
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            existing = list(message.get(ENTITIES) or [])
            mine = self.extract(text)
            kept_mine = [
                entity
                for entity in mine
                if entity[ENTITY_ATTRIBUTE_TYPE] not in KEEP_EXISTING
                or not any(_same(entity, other) for other in existing)
            ]
            kept_existing = [
                other
                for other in existing
                if other.get(ENTITY_ATTRIBUTE_TYPE) in KEEP_EXISTING
                or not any(_same(entity, other) for entity in kept_mine)
            ]
            if kept_mine:
                merged = sorted(
                    kept_existing + kept_mine,
                    key=lambda e: int(e.get(ENTITY_ATTRIBUTE_START) or 0),
                )
                message.set(ENTITIES, merged, add_to_output=True)
        return messages


def _same(entity: dict[str, Any], other: dict[str, Any]) -> bool:
    return (
        entity[ENTITY_ATTRIBUTE_TYPE] == other.get(ENTITY_ATTRIBUTE_TYPE)
        and entity[ENTITY_ATTRIBUTE_START] < int(other.get(ENTITY_ATTRIBUTE_END) or 0)
        and int(other.get(ENTITY_ATTRIBUTE_START) or 0) < entity[ENTITY_ATTRIBUTE_END]
    )
