"""Custom Rasa NLU graph components for the library assistant."""

from __future__ import annotations
