"""Custom Rasa actions, one module per feature, served by ``rasa run actions``."""

from __future__ import annotations

__all__: list[str] = []
