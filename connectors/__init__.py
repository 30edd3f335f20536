"""Reader channels, one module each. Connectors only translate payloads."""

from __future__ import annotations

__all__: list[str] = []
