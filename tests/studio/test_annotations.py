"""Entity markup unwrapped for the studio's comparisons (``handoff_console.studio.annotations``)."""

from __future__ import annotations

from handoff_console.studio.annotations import plain
from handoff_console.studio.models.heldout import normalise


def test_plain_unwraps_both_kinds_of_entity_markup() -> None:
    text = 'is [central](branch) open, or [east]{"entity": "branch"}? [no markup]'
    assert plain(text) == "is central open, or east? [no markup]"


def test_the_held_out_split_compares_texts_without_markup_case_or_extra_spaces() -> None:
    assert normalise("Is  [Central](branch) OPEN") == normalise("is central open")
    assert normalise("is central open") == "is central open"
