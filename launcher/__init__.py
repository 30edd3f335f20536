"""Operations for the Reader Interaction Center: install, train, run and test."""

from __future__ import annotations

__all__: list[str] = []
