"""The library profile: branches, opening hours, closures, contacts, loan rules and FAQ facts.

The profile lives in ``bot/library_profile.yml`` (or the file named by the
``RIC_LIBRARY_PROFILE`` environment variable). :func:`load_profile` parses it into
frozen dataclasses and validates every field; a bad value raises
:class:`ProfileError` naming the field by its path, for example::

    branches.northside.hours.monday.open: expected HH:MM, got '9am'

Exceptions::

    ProfileError          the profile file is missing, unreadable or invalid

The records are defined in ``_profile_model`` and the checks in ``_profile_parse``;
this module is their public face and loads (and caches) the file.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from library._profile_model import (
    WEEKDAYS,
    Branch,
    Closure,
    LibraryInfo,
    LibraryProfile,
    LoanRule,
    OpeningTimes,
    ProfileError,
)
from library._profile_parse import parse_profile
from ric_config import LibraryConfig

__all__ = [
    "WEEKDAYS",
    "Branch",
    "Closure",
    "LibraryInfo",
    "LibraryProfile",
    "LoanRule",
    "OpeningTimes",
    "ProfileError",
    "clear_profile_cache",
    "default_profile_path",
    "library_today",
    "library_zone",
    "load_profile",
    "parse_profile",
]

logger = logging.getLogger(__name__)

PROFILE_ENV = "RIC_LIBRARY_PROFILE"

_cache: dict[Path, LibraryProfile] = {}
_cache_lock = threading.Lock()


def default_profile_path() -> Path:
    """Return the profile path: ``$RIC_LIBRARY_PROFILE`` or ``bot/library_profile.yml``."""
    configured = LibraryConfig().library_profile
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "bot" / "library_profile.yml"


def load_profile(path: Path | None = None, *, reload: bool = False) -> LibraryProfile:
    """Load, validate and cache the library profile.

    The profile is read once per process and path; later calls return the cached
    object unless ``reload`` is true.

    Args:
        path: The YAML file; defaults to :func:`default_profile_path`.
        reload: Read the file again even if it is cached.

    Returns:
        The validated profile.

    Raises:
        ProfileError: The file is missing, is not valid YAML, or has an invalid field.
    """
    resolved = (path or default_profile_path()).resolve()
    with _cache_lock:
        if not reload and resolved in _cache:
            return _cache[resolved]
        try:
            text = resolved.read_text(encoding="utf-8")
        except OSError as error:
            raise ProfileError(f"(profile): cannot read {resolved}: {error}") from error
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ProfileError(f"(profile): {resolved} is not valid YAML: {error}") from error
        profile = parse_profile(document)
        _cache[resolved] = profile
        return profile


def clear_profile_cache() -> None:
    """Forget every cached profile, so the next :func:`load_profile` reads the file."""
    with _cache_lock:
        _cache.clear()


def library_zone() -> tzinfo:
    """The library's time zone: ``RIC_LIBRARY_TIMEZONE``, else the profile's.

    UTC, with the error logged, when neither can be read, so that a broken profile
    delays nothing that only needs a date.
    """
    name = LibraryConfig().library_timezone
    try:
        return ZoneInfo(name) if name else load_profile().tz
    except (ProfileError, OSError, ValueError):
        logger.exception("could not read the library's time zone; using UTC")
        return timezone.utc


def library_today(current: datetime) -> date:
    """The library's local date at ``current``."""
    return current.astimezone(library_zone()).date()
