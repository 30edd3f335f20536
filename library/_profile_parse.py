"""Validating the parsed profile YAML field by field (private to the package).

Every check raises :class:`ProfileError` with the dotted path of the field first,
for example ``branches.northside.hours.monday.open: expected HH:MM, got '9am'``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from library import _profile_model as model
from library._profile_model import WEEKDAYS, OpeningTimes, ProfileError

__all__ = ["parse_profile"]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_BRANCH_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_REQUIRED_SECTIONS = (
    "library",
    "branches",
    "closures",
    "chat_hours",
    "contacts",
    "loan_rules",
    "faq",
)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "nothing"
    return f"{value!r} ({type(value).__name__})"


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProfileError(f"{path}: expected a mapping, got {_describe(value)}")
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{path}: expected a non-empty string, got {_describe(value)}")
    return value.strip()


def _positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ProfileError(f"{path}: must be a positive integer, got {_describe(value)}")
    return value


def _non_negative_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProfileError(f"{path}: must be a non-negative integer, got {_describe(value)}")
    return value


def _amount(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ProfileError(f"{path}: must be a non-negative amount, got {_describe(value)}")
    return float(value)


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ProfileError(f"{path}: must be true or false, got {_describe(value)}")
    return value


def _hhmm(value: Any, path: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 10:00 as the sexagesimal number 600.
        raise ProfileError(
            f'{path}: expected HH:MM, got {value!r} (quote times in YAML, e.g. "10:00")'
        )
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise ProfileError(f"{path}: expected HH:MM, got {_describe(value)}")
    return time(int(match.group(1)), int(match.group(2)))


def _iso_date(value: Any, path: str) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    message = f"{path}: not a date (expected YYYY-MM-DD, got {_describe(value)})"
    if not isinstance(value, str):
        raise ProfileError(message)
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ProfileError(message) from error


def _weekly_hours(value: Any, path: str) -> tuple[OpeningTimes | None, ...]:
    days = _mapping(value, path)
    for key in days:
        if key not in WEEKDAYS:
            raise ProfileError(f"{path}.{key}: unknown weekday (expected one of monday..sunday)")
    result: list[OpeningTimes | None] = []
    for day in WEEKDAYS:
        day_path = f"{path}.{day}"
        if day not in days:
            raise ProfileError(f'{day_path}: missing (use "closed" for a closed day)')
        entry = days[day]
        if entry == "closed":
            result.append(None)
            continue
        if not isinstance(entry, Mapping):
            raise ProfileError(
                f'{day_path}: expected {{open: HH:MM, close: HH:MM}} or "closed", '
                f"got {_describe(entry)}"
            )
        opens = _hhmm(entry.get("open"), f"{day_path}.open")
        closes = _hhmm(entry.get("close"), f"{day_path}.close")
        if closes <= opens:
            raise ProfileError(f"{day_path}.close: must be later than open ({opens:%H:%M})")
        result.append(OpeningTimes(opens, closes))
    return tuple(result)


def _parse_library(value: Any) -> model.LibraryInfo:
    section = _mapping(value, "library")
    timezone = _text(section.get("timezone"), "library.timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ProfileError(f"library.timezone: unknown timezone {timezone!r}") from error
    name = _text(section.get("name"), "library.name")
    return model.LibraryInfo(
        name=name,
        short_name=_text(section.get("short_name", name), "library.short_name"),
        timezone=timezone,
        currency=_text(section.get("currency", "GBP"), "library.currency"),
        website=_text(section.get("website"), "library.website"),
        catalogue_url=_text(section.get("catalogue_url"), "library.catalogue_url"),
    )


def _parse_branch(value: Any, index: int, seen: set[str]) -> model.Branch:
    entry = _mapping(value, f"branches[{index}]")
    branch_id = _text(entry.get("id"), f"branches[{index}].id")
    if not _BRANCH_ID.match(branch_id):
        raise ProfileError(
            f"branches[{index}].id: expected a lower-case identifier, got {branch_id!r}"
        )
    if branch_id in seen:
        raise ProfileError(f"branches[{index}].id: duplicate branch id {branch_id!r}")
    seen.add(branch_id)
    path = f"branches.{branch_id}"
    name = _text(entry.get("name"), f"{path}.name")
    aliases_value = entry.get("aliases", [])
    if not isinstance(aliases_value, list):
        raise ProfileError(f"{path}.aliases: expected a list, got {_describe(aliases_value)}")
    aliases = tuple(
        _text(alias, f"{path}.aliases[{i}]").lower() for i, alias in enumerate(aliases_value)
    )
    return model.Branch(
        id=branch_id,
        name=name,
        short_name=_text(entry.get("short_name", name), f"{path}.short_name"),
        aliases=aliases,
        address=_text(entry.get("address"), f"{path}.address"),
        phone=_text(entry.get("phone"), f"{path}.phone"),
        email=_text(entry.get("email"), f"{path}.email"),
        accessibility=_text(entry.get("accessibility", "-"), f"{path}.accessibility"),
        parking=_text(entry.get("parking", "-"), f"{path}.parking"),
        hours=_weekly_hours(entry.get("hours"), f"{path}.hours"),
    )


def _parse_closure(value: Any, index: int, branch_ids: tuple[str, ...]) -> model.Closure:
    path = f"closures[{index}]"
    entry = _mapping(value, path)
    day = _iso_date(entry.get("date"), f"{path}.date")
    name = _text(entry.get("name"), f"{path}.name")
    kind = entry.get("type")
    close: time | None = None
    if kind == "early_closing":
        close = _hhmm(entry.get("close"), f"{path}.close")
    elif kind != "closed":
        raise ProfileError(
            f"{path}.type: expected 'closed' or 'early_closing', got {_describe(kind)}"
        )
    branches_value = entry.get("branches", "all")
    if branches_value == "all":
        branches = frozenset(branch_ids)
    elif isinstance(branches_value, list) and branches_value:
        for i, branch_id in enumerate(branches_value):
            if branch_id not in branch_ids:
                raise ProfileError(f"{path}.branches[{i}]: unknown branch {branch_id!r}")
        branches = frozenset(branches_value)
    else:
        raise ProfileError(
            f'{path}.branches: expected "all" or a list of branch ids, '
            f"got {_describe(branches_value)}"
        )
    return model.Closure(date=day, name=name, type=kind, close=close, branches=branches)


def _parse_loan_rules(value: Any) -> tuple[int, dict[str, model.LoanRule]]:
    section = _mapping(value, "loan_rules")
    total = _positive_int(section.get("total_max_items"), "loan_rules.total_max_items")
    rules: dict[str, model.LoanRule] = {}
    for material, rule_value in section.items():
        if material == "total_max_items":
            continue
        path = f"loan_rules.{material}"
        rule = _mapping(rule_value, path)
        rules[material] = model.LoanRule(
            material=material,
            loan_period_days=_positive_int(
                rule.get("loan_period_days"), f"{path}.loan_period_days"
            ),
            max_renewals=_non_negative_int(rule.get("max_renewals"), f"{path}.max_renewals"),
            max_items=_positive_int(rule.get("max_items"), f"{path}.max_items"),
            overdue_fee_per_day=_amount(
                rule.get("overdue_fee_per_day"), f"{path}.overdue_fee_per_day"
            ),
            max_fee=_amount(rule.get("max_fee"), f"{path}.max_fee"),
        )
    if not rules:
        raise ProfileError("loan_rules: expected at least one material type")
    return total, rules


MAX_SUGGESTED_TOPICS = 5


def _suggested_topics(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ProfileError(f"suggested_topics: expected a list, got {_describe(value)}")
    if len(value) > MAX_SUGGESTED_TOPICS:
        raise ProfileError(f"suggested_topics: at most {MAX_SUGGESTED_TOPICS}, got {len(value)}")
    return tuple(_text(topic, f"suggested_topics[{i}]") for i, topic in enumerate(value))


def parse_profile(document: Any) -> model.LibraryProfile:
    """Validate a parsed YAML document and build the profile from it.

    Args:
        document: The result of ``yaml.safe_load`` on a profile file.

    Returns:
        The validated profile.

    Raises:
        ProfileError: A field is missing or invalid; the message names its path.
    """
    root = _mapping(document, "(profile)")
    for section in _REQUIRED_SECTIONS:
        if section not in root:
            raise ProfileError(f"{section}: missing section")
    library = _parse_library(root["library"])

    branches_value = root["branches"]
    if not isinstance(branches_value, list) or not branches_value:
        raise ProfileError(f"branches: expected a non-empty list, got {_describe(branches_value)}")
    seen: set[str] = set()
    branches = tuple(_parse_branch(b, i, seen) for i, b in enumerate(branches_value))
    branch_ids = tuple(b.id for b in branches)

    closures_value = root["closures"]
    if not isinstance(closures_value, list):
        raise ProfileError(f"closures: expected a list, got {_describe(closures_value)}")
    closures = tuple(
        sorted(
            (_parse_closure(c, i, branch_ids) for i, c in enumerate(closures_value)),
            key=lambda closure: closure.date,
        )
    )

    contacts_value = _mapping(root["contacts"], "contacts")
    contacts = {str(key): _text(value, f"contacts.{key}") for key, value in contacts_value.items()}
    total_max_items, loan_rules = _parse_loan_rules(root["loan_rules"])
    _mapping(root["faq"], "faq")
    if "account_block_threshold" in root:
        _amount(root["account_block_threshold"], "account_block_threshold")
    if "laptop_min_age" in root:
        _positive_int(root["laptop_min_age"], "laptop_min_age")
    for flag in ("children_overdue_fees", "group_cards"):
        if flag in root:
            _flag(root[flag], flag)

    return model.LibraryProfile(
        library=library,
        branches=branches,
        closures=closures,
        chat_hours=_weekly_hours(root["chat_hours"], "chat_hours"),
        contacts=MappingProxyType(contacts),
        loan_rules=MappingProxyType(loan_rules),
        total_max_items=total_max_items,
        raw=MappingProxyType(dict(root)),
        suggested_topics=_suggested_topics(root.get("suggested_topics", [])),
    )
