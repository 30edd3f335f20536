"""Edits of intents and FAQ topics: examples (set, move), create, rename.

Each function changes a :class:`~handoff_console.studio.training_data.model.Snapshot`
in place and raises an API error for an edit that cannot be made; the editor then
validates the resulting changeset with Rasa before anything is written.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from handoff_console.services.errors import BadRequest, Conflict
from handoff_console.studio.training_data.model import (
    FAQ_PREFIX,
    RESPONSE_PREFIX,
    Example,
    Snapshot,
    block_text,
    block_texts,
    entities_in,
)
from handoff_console.studio.training_data.project import load_yaml
from handoff_console.studio.training_data.responses import add_response

__all__ = [
    "PROTECTED_NAMES",
    "check_example",
    "check_name",
    "create_intent",
    "move_examples",
    "rename_intent",
    "set_examples",
]

MAX_EXAMPLE = 300
_PLAIN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_FAQ = re.compile(r"^faq/[a-z][a-z0-9_]{0,63}$")
_CONTRACT_INTENTS = """greet goodbye thank affirm deny bot_challenge request_human give_feedback
out_of_scope check_loans renew_loans place_hold hold_status check_fines search_catalog
library_hours library_location get_library_card reset_pin book_room interlibrary_loan
research_help access_eresources faq nlu_fallback"""
_CONTRACT_TOPICS = """wifi printing scanning lost_card guest_access food_drink book_drop
lost_damaged_item donations accessibility lockers quiet_zones laptop_loans loan_periods
borrowing_limits overdue_policy membership_eligibility computer_use parking lost_and_found
citation_help course_reserves makerspace events volunteering purchase_suggestion ebook_apps
privacy holiday_closures newspapers"""
PROTECTED_NAMES = frozenset(
    _CONTRACT_INTENTS.split() + [FAQ_PREFIX + topic for topic in _CONTRACT_TOPICS.split()]
)
"""Names the actions, channels and reports rely on (the project's contract): never renamed."""


def check_name(name: str) -> str:
    """An intent (``snake_case``) or FAQ topic (``faq/snake_case``) name, or a 400."""
    name = name.strip() if isinstance(name, str) else ""
    if not (_PLAIN.match(name) or _FAQ.match(name)) or name.startswith("faq_"):
        raise BadRequest(
            "bad_name",
            "Name an intent in lower-case letters, digits and _ (such as opening_event), "
            "or an FAQ topic as faq/<topic> (such as faq/museum_passes).",
        )
    return name


def check_example(text: object, entities: list[str]) -> str:
    """One example's text, trimmed, or a 400 saying what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("empty_example", "An example cannot be empty.")
    text = text.strip()
    if "\n" in text or "\r" in text:
        raise BadRequest("bad_example", f"An example is one line: {text[:60]!r}.")
    if len(text) > MAX_EXAMPLE:
        raise BadRequest("bad_example", f"An example has at most {MAX_EXAMPLE} characters.")
    if text.startswith(("-", "#")):
        raise BadRequest("bad_example", f"An example cannot start with - or #: {text[:60]!r}.")
    unknown = sorted(set(entities_in(text)) - set(entities))
    if unknown:
        raise BadRequest(
            "unknown_entity",
            f"{text[:60]!r} marks {', '.join(unknown)}, which the domain does not declare "
            f"(entities: {', '.join(entities)}).",
        )
    return text


def _unique(texts: list[str], name: str) -> None:
    seen: set[str] = set()
    for text in texts:
        if text in seen:
            raise BadRequest("duplicate_example", f"{text!r} is twice in {name}.")
        seen.add(text)


def _nlu_file(snap: Snapshot, rel: str) -> str:
    """An existing NLU file, or a new ``data/nlu/<name>.yml`` started empty."""
    if rel in snap.nlu_files():
        return rel
    if rel in snap.data or not re.fullmatch(r"data/nlu/[a-z0-9_]+\.yml", rel):
        raise BadRequest(
            "bad_file",
            f"{rel} is not an NLU file; name one of data/nlu/ (or a new data/nlu/<name>.yml).",
        )
    doc = load_yaml('version: "3.1"\nnlu:\n')
    doc["nlu"] = CommentedSeq()
    snap.add_file(rel, doc)
    return rel


def _placed(mine: list[Any], texts: list[str]) -> list[list[str]]:
    """Share ``texts`` out over a file's entries of one intent, keeping where each was.

    An example that was in an entry stays in it; a new one joins the entry of the
    example before it (the first entry for a new first example).
    """
    home = {text: i for i, entry in enumerate(mine) for text in block_texts(entry.get("examples"))}
    placed: list[list[str]] = [[] for _ in mine]
    current = 0
    for text in texts:
        current = home.get(text, current)
        placed[current].append(text)
    return placed


def _write_examples(snap: Snapshot, name: str, by_file: dict[str, list[str]]) -> None:
    """Make ``by_file`` the intent's examples, each file's entries kept where they are."""
    for rel in snap.nlu_files():
        entries = snap.data[rel]["nlu"]
        mine = [e for e in entries if isinstance(e, dict) and e.get("intent") == name]
        texts = by_file.pop(rel, [])
        if not mine and not texts:
            continue
        if not mine:
            entries.append(CommentedMap(intent=name, examples=block_text(texts)))
            snap.touch(rel)
            continue
        for entry, placed in zip(mine, _placed(mine, texts), strict=True):
            if block_texts(entry.get("examples")) == placed:
                continue
            snap.touch(rel)
            if placed:
                entry["examples"] = block_text(placed)
            else:
                entries.remove(entry)
    for rel, texts in by_file.items():  # files that do not exist yet
        _nlu_file(snap, rel)
        snap.data[rel]["nlu"].append(CommentedMap(intent=name, examples=block_text(texts)))


def set_examples(snap: Snapshot, name: str, examples: list[tuple[object, str | None]]) -> None:
    """Replace an intent's examples: ``(text, file)`` each, file None for its first file.

    Examples keep their files and their order within a file; an intent keeps at least
    one example.
    """
    _set(snap, name, examples, snap.examples_of(name))


def _set(
    snap: Snapshot, name: str, examples: list[tuple[object, str | None]], current: list[Example]
) -> None:
    entities = snap.entities()
    if not examples:
        raise BadRequest("no_examples", f"{name} needs at least one example.")
    default = current[0].file if current else _default_nlu_file(snap, name)
    by_file: dict[str, list[str]] = {}
    texts = []
    for text, rel in examples:
        clean = check_example(text, entities)
        texts.append(clean)
        by_file.setdefault(_nlu_file(snap, rel) if rel else default, []).append(clean)
    _unique(texts, name)
    _write_examples(snap, name, by_file)


def move_examples(snap: Snapshot, name: str, texts: list[str], target: str) -> None:
    """Move examples of ``name`` to intent ``target`` (into ``target``'s first file)."""
    if target == name:
        raise BadRequest("same_intent", "Pick another intent to move the examples to.")
    current = snap.examples_of(name)
    destination = snap.examples_of(target)
    missing = [t for t in texts if t not in {e.text for e in current}]
    if not texts or missing:
        raise BadRequest("no_such_example", f"{name} has no example {missing[:1] or ''}.")
    moving = set(texts)
    kept = [(e.text, e.file) for e in current if e.text not in moving]
    if not kept:
        raise BadRequest("no_examples", f"{name} would have no examples left.")
    already = moving & {e.text for e in destination}
    if already:
        raise BadRequest("duplicate_example", f"{target} already has {sorted(already)[0]!r}.")
    set_examples(snap, name, list(kept))
    first = destination[0].file if destination else _default_nlu_file(snap, target)
    moved = [(e.text, e.file) for e in destination] + [(t, first) for t in texts]
    set_examples(snap, target, list(moved))


def _default_nlu_file(snap: Snapshot, name: str) -> str:
    """Where a new intent's examples go: the first file with FAQ examples for a topic,
    ``data/nlu/core.yml`` (else the first file with intent examples) for an intent."""
    faq = name.startswith(FAQ_PREFIX)
    files = [
        rel for rel, e in snap.intent_entries() if str(e["intent"]).startswith(FAQ_PREFIX) == faq
    ]
    if not faq and "data/nlu/core.yml" in files:
        return "data/nlu/core.yml"
    return files[0] if files else "data/nlu/studio.yml"


def _domain_file(snap: Snapshot, key: str, like: str) -> str:
    """The domain file whose ``key`` section has an entry starting with ``like``."""
    for rel in snap.domain_files():
        doc = snap.data[rel]
        section = doc.get(key) if isinstance(doc, dict) else None
        if section and any(str(k).startswith(like) for k in section):
            return rel
    raise BadRequest("no_domain_section", f"No domain file has a {key}: section to add to.")


def create_intent(
    snap: Snapshot,
    name: str,
    examples: list[object],
    rel: str | None,
    answer: str | None,
) -> None:
    """Create an intent, or an FAQ topic with its answer (``utter_faq/<topic>``).

    An FAQ topic needs its answer, which the retrieval rule already sends. A plain
    intent is added to the domain's intents; with an answer it also gets the response
    ``utter_<name>`` and a rule that sends it (in ``data/rules/studio.yml``), without
    one the assistant needs a rule written in YAML before it acts on the intent.
    """
    name = check_name(name)
    if name in snap.examples() or name in snap.domain_intents():
        raise Conflict("intent_exists", f"{name} already exists; add examples to it instead.")
    faq = name.startswith(FAQ_PREFIX)
    if faq and not (isinstance(answer, str) and answer.strip()):
        raise BadRequest("no_answer", f"A new FAQ topic needs its answer ({name}).")
    target = _nlu_file(snap, rel) if rel else _default_nlu_file(snap, name)
    _set(snap, name, [(text, target) for text in examples], [])
    if faq:
        add_response(snap, RESPONSE_PREFIX + name, [{"text": str(answer).strip()}])
    else:
        # The file that lists the everyday intents (greet), not the EXTERNAL_ ones.
        home = _domain_file(snap, "intents", "greet")
        snap.data[home]["intents"].append(name)
        snap.touch(home)
        if isinstance(answer, str) and answer.strip():
            add_response(snap, RESPONSE_PREFIX + name, [{"text": answer.strip()}])
            _add_rule(snap, name, RESPONSE_PREFIX + name)


STUDIO_RULES = "data/rules/studio.yml"
"""Where the rules of intents created in the studio go."""


def _add_rule(snap: Snapshot, intent: str, action: str) -> None:
    """A rule ``intent`` → ``action`` in :data:`STUDIO_RULES` (started when missing)."""
    if STUDIO_RULES not in snap.data:
        doc = load_yaml('version: "3.1"\nrules:\n')
        doc["rules"] = CommentedSeq()
        snap.add_file(STUDIO_RULES, doc)
    steps = CommentedSeq([CommentedMap(intent=intent), CommentedMap(action=action)])
    snap.data[STUDIO_RULES]["rules"].append(CommentedMap(rule=f"answer {intent}", steps=steps))
    snap.touch(STUDIO_RULES)


def rename_intent(snap: Snapshot, old: str, new: str) -> list[str]:
    """Rename an intent or FAQ topic everywhere it is named; the files changed.

    NLU entries, the domain's intents, slot mappings (``intent``/``not_intent``),
    rules, stories and test stories (``intent:`` steps, ``or:`` too), button payloads
    (``/old`` and ``/old{...}``) and an FAQ topic's ``utter_faq/<topic>`` answer.
    """
    new = check_name(new)
    snap.examples_of(old)
    if old in PROTECTED_NAMES:
        raise BadRequest(
            "protected_name",
            f"{old} is part of the assistant's contract: the actions, channels and reports "
            "rely on that name, so it cannot be renamed here.",
        )
    if old.startswith(FAQ_PREFIX) != new.startswith(FAQ_PREFIX):
        raise BadRequest(
            "bad_name", "An FAQ topic stays an FAQ topic (faq/<topic>), an intent an intent."
        )
    if new in snap.examples() or new in snap.domain_intents():
        raise Conflict("intent_exists", f"{new} already exists.")
    for rel, entry in list(snap.intent_entries(old)):
        entry["intent"] = new
        snap.touch(rel)
    for rel in snap.domain_files():
        doc = snap.data[rel]
        intents = doc.get("intents") or []
        for index, item in enumerate(intents):
            if item == old:
                intents[index] = new
                snap.touch(rel)
            elif isinstance(item, CommentedMap) and old in item:
                item.insert(0, new, item.pop(old))
                snap.touch(rel)
        if _rename_refs(doc.get("slots"), old, new) | _rename_payloads(doc, old, new):
            snap.touch(rel)
        responses = doc.get("responses")
        if old.startswith(FAQ_PREFIX) and responses and RESPONSE_PREFIX + old in responses:
            position = list(responses).index(RESPONSE_PREFIX + old)
            responses.insert(position, RESPONSE_PREFIX + new, responses.pop(RESPONSE_PREFIX + old))
            snap.touch(rel)
    for rel in snap.story_files():
        if _rename_refs(snap.data[rel], old, new):
            snap.touch(rel)
    return sorted(snap.touched)


def _rename_refs(node: Any, old: str, new: str) -> bool:
    """Rename ``intent: old`` / ``not_intent: old`` (text or list) anywhere under node."""
    changed = False
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("intent", "not_intent"):
                if value == old:
                    node[key] = new
                    changed = True
                elif isinstance(value, list) and old in value:
                    value[value.index(old)] = new
                    changed = True
            else:
                changed |= _rename_refs(value, old, new)
    elif isinstance(node, list):
        for item in node:
            changed |= _rename_refs(item, old, new)
    return changed


def _rename_payloads(doc: Any, old: str, new: str) -> bool:
    """Rename ``/old`` and ``/old{...}`` button payloads in a domain file's responses."""
    changed = False
    pattern = re.compile(rf"^/{re.escape(old)}(?=$|\{{)")
    for variations in (doc.get("responses") or {}).values():
        for variation in variations or []:
            for button in (variation or {}).get("buttons") or []:
                payload = button.get("payload")
                if isinstance(payload, str) and pattern.match(payload):
                    button["payload"] = pattern.sub(f"/{new}", payload)
                    changed = True
    return changed
