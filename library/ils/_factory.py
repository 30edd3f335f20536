"""Choosing and caching the process's library-system adapter (private to the package)."""

from __future__ import annotations

import importlib
import os
import threading

from library.ils.base import LibrarySystem
from library.ils.errors import LibrarySystemConfigurationError
from ric_config import LibraryConfig

_lock = threading.Lock()
_instances: dict[tuple[int, str], LibrarySystem] = {}


def _build(spec: str) -> LibrarySystem:
    if spec == "demo":
        from library.ils.demo import DemoLibrarySystem

        return DemoLibrarySystem()
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise LibrarySystemConfigurationError(
            f"RIC_LIBRARY_SYSTEM must be 'demo' or 'package.module:Class', not {spec!r}"
        )
    try:
        adapter = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise LibrarySystemConfigurationError(
            f"RIC_LIBRARY_SYSTEM={spec!r} cannot be imported: {error}"
        ) from error
    if not (isinstance(adapter, type) and issubclass(adapter, LibrarySystem)):
        raise LibrarySystemConfigurationError(f"{spec!r} is not a LibrarySystem subclass")
    instance: LibrarySystem = adapter()
    return instance


def get_library_system() -> LibrarySystem:
    """Return this process's library-system adapter, creating it on first use.

    ``RIC_LIBRARY_SYSTEM`` chooses it: "demo" (the default) for
    `DemoLibrarySystem`, or a dotted path "package.module:Class" naming a
    `LibrarySystem` subclass that takes no arguments. The instance is cached
    per process and per setting.

    Returns:
        The adapter.

    Raises:
        LibrarySystemConfigurationError: The setting names no usable adapter.
    """
    spec = LibraryConfig().library_system
    key = (os.getpid(), spec)  # a forked worker builds its own
    with _lock:
        instance = _instances.get(key)
        if instance is None:
            instance = _instances[key] = _build(spec)
        return instance


def clear_library_system_cache() -> None:
    """Forget cached adapters, so the next `get_library_system` builds afresh."""
    with _lock:
        _instances.clear()
