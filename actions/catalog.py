"""Catalogue search: ranked results with availability, each with a "reserve" button."""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.types import DomainDict

from actions._common import Dispatcher, Events, Named, entity_values, system_down
from library.ils import LibrarySystemError, SearchResult, get_library_system
from nlu_components.entity_patterns import find_title_and_author

_FILLER = re.compile(
    r"\b(do|does|you|u|have|has|got|any|a|an|the|copy|copies|of|is|are|there|in|stock|library|"
    r"book|books|novel|by|about|on|for|find|search|look|looking|up|i'm|im|i|want|wanna|need|"
    r"would|like|to|read|reserve|hold|place|put|me|can|could|please|pls|catalog|catalogue|"
    r"something|anything|available|borrow|get|check|if|whether|hi|hello|hey)\b",
    re.IGNORECASE,
)


def search_query(text: str, entities: list[str]) -> str:
    """The words to search for: the ``book_query`` entity, or the text without filler."""
    if entities:
        return " ".join(entities)
    words = _FILLER.sub(" ", re.sub(r"[^\w\s'-]", " ", text))
    return " ".join(words.split())


def requested_titles(message: dict[str, Any]) -> list[str]:
    """The title(s) a message asks for: the ``book_query`` entity, or the title read by rule.

    A learned extractor often stops a title at its first comma ("Cry" for "Cry, the
    Beloved Country"); the rule-based title (``nlu_components.entity_patterns``) keeps
    the commas, so it wins when it contains the entity.
    """
    entities = entity_values(message, "book_query")
    title, _ = find_title_and_author(str(message.get("text") or ""))
    if title is not None and (
        not entities or any(e.lower() in title.value.lower() for e in entities)
    ):
        return [title.value]
    return entities


def result_line(result: SearchResult) -> str:
    """One result: title, author, year, format and where copies are available."""
    where = [f"{a.branch.title()} {a.available}/{a.total}" for a in result.availability if a.total]
    available = ", ".join(where) if where else "no copies on the shelf"
    fmt = result.format.replace("_", " ")
    return f"• {result.title} — {result.author} ({result.year}, {fmt}). Available: {available}"


def hold_buttons(results: list[SearchResult]) -> list[dict[str, str]]:
    """A "reserve" button per result; the payload names the record and its title."""
    buttons = []
    for result in results:
        # The title travels with the record, so the hold flow can offer its other formats.
        entities = json.dumps({"record_id": result.record_id, "book_query": result.title})
        buttons.append(
            {"title": f"Reserve: {result.title[:50]}", "payload": f"/place_hold{entities}"}
        )
    return buttons


class ActionSearchCatalog(Named, Action, name="action_search_catalog"):
    """Search the catalogue for the reader's words."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Reply with up to five ranked results, or ask for a title or author."""
        message = tracker.latest_message
        query = search_query(message.get("text") or "", requested_titles(message))
        if not query:
            dispatcher.utter_message(
                text="What are you looking for? Tell me a title, an author or a subject."
            )
            return []
        try:
            results = await get_library_system().search(query, limit=5)
        except LibrarySystemError:
            system_down(dispatcher)
            return []
        if not results:
            dispatcher.utter_message(
                text=f"I couldn't find anything for “{query}”. Try another spelling, the author's "
                "name, or ask a librarian to order it through interlibrary loan.",
                buttons=[{"title": "Talk to a librarian", "payload": "/request_human"}],
            )
            return []
        lines = [f"Here's what I found for “{query}”:", *(result_line(r) for r in results)]
        dispatcher.utter_message(text="\n".join(lines), buttons=hold_buttons(results[:3]))
        return []
