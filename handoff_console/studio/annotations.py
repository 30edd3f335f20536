"""Rasa's entity markup in training examples, for the studio's text comparisons.

An example may annotate an entity as ``[central](branch)`` or
``[central]{"entity": "branch"}``; the intent-health report and the held-out split
compare examples by their plain words, with the markup unwrapped.
"""

from __future__ import annotations

import re

__all__ = ["plain"]

_ANNOTATION = re.compile(r"\[([^\]]*)\](\{[^}]*\}|\([^)]*\))")


def plain(text: str) -> str:
    """An example's text with entity markup unwrapped (``[central](branch)`` -> ``central``)."""
    return _ANNOTATION.sub(r"\1", text)
