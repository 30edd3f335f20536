"""Pure entity finders shared by the NLU entity extractor and the actions.

Each finder takes the message text and returns :class:`Found` spans (start, end, the
text as typed, the canonical value, and an optional role), so the Rasa component
(:mod:`nlu_components.entities`) can turn them into entities and the actions can use
the same rules on a typed answer. Nothing here imports Rasa.

- :func:`find_formats`: paperback, ebook, audiobook, large print, DVD; "not the
  ebook" gives the role ``excluded`` (a choice, not a ``deny``).
- :func:`find_emails`, :func:`find_card_numbers`: addresses and 14-digit library cards.
  PINs are never returned by anything here.
- :func:`find_dates`: "by Friday", "next week", "tomorrow", "in 2 weeks", "24 December",
  resolved to ISO dates against a given "today".
- :func:`find_title_and_author`: the title asked for (commas and all) and the author
  after "by".
- :func:`find_branches`: branch names and aliases, mapped to branch ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "FORMAT_IDS",
    "Found",
    "find_branches",
    "find_card_numbers",
    "find_dates",
    "find_emails",
    "find_formats",
    "find_title_and_author",
]

EXCLUDED = "excluded"
"""The role of a format the reader does not want ("not the ebook")."""


@dataclass(frozen=True)
class Found:
    """One entity found in a text.

    Attributes:
        start: Offset of the first character.
        end: Offset after the last character.
        text: The text as typed.
        value: The canonical value (a format id, an ISO date, digits ...).
        role: ``excluded`` for a negated format, else None.
    """

    start: int
    end: int
    text: str
    value: str
    role: str | None = None


# Canonical format ids are the library system's material types.
FORMAT_IDS = ("book", "ebook", "audiobook", "large_print", "dvd")
_FORMAT_WORDS: dict[str, tuple[str, ...]] = {
    "large_print": ("large print", "large-print", "largeprint", "big print", "large type"),
    "audiobook": (
        "audiobook", "audio book", "audio-book", "eaudiobook", "e-audiobook", "audio cd",
        "audio version", "audio edition", "spoken word", "audio",
    ),
    "ebook": ("ebook", "e-book", "e book", "kindle", "digital copy", "digital version", "epub"),
    "dvd": ("dvd", "blu-ray", "bluray", "blu ray"),
    "book": (
        "paperback", "hardback", "hardcover", "hard copy", "print copy", "printed copy",
        "physical copy", "print edition", "printed book", "physical book", "regular book",
        "normal book", "paper copy",
    ),
}  # fmt: skip
# In an answer to "which format?", the plain word also counts.
_PLAIN_BOOK = ("book", "print", "the book", "a book", "printed", "physical")
_NEGATION = (
    r"(?:not|no|nor|never|without|except|but not|anything but|other than|rather than|"
    r"instead of|apart from|besides|do ?n[o']?t want|don'?t need|not interested in|skip)"
)
_ARTICLE = r"(?:\s+(?:the|an?|that|any|this|those|these))?"


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _format_pattern(with_plain_book: bool) -> re.Pattern[str]:
    words = {w: fid for fid, ws in _FORMAT_WORDS.items() for w in ws}
    if with_plain_book:
        words.update({w: "book" for w in _PLAIN_BOOK})
    return re.compile(
        rf"(?<![\w-])(?P<neg>{_NEGATION}{_ARTICLE}\s+)?(?P<fmt>{_alternation(list(words))})"
        r"(?:e?s)?(?![\w-])",
        re.IGNORECASE,
    )


_FORMAT_LOOKUP = {w: fid for fid, ws in _FORMAT_WORDS.items() for w in ws} | {
    w: "book" for w in _PLAIN_BOOK
}
_FORMATS_STRICT = _format_pattern(with_plain_book=False)
_FORMATS_ANSWER = _format_pattern(with_plain_book=True)


def find_formats(text: str, answer: bool = False) -> list[Found]:
    """Formats named in ``text``; a negated one ("not the ebook") has role ``excluded``.

    Args:
        text: The reader's message.
        answer: True when the text answers "which format?", so that "the book" or
            "print" means the printed book. Elsewhere "book" is too common to count.

    Returns:
        The formats in order, canonical ids as values.
    """
    pattern = _FORMATS_ANSWER if answer else _FORMATS_STRICT
    found = []
    for match in pattern.finditer(text):
        word = re.sub(r"\s+", " ", match.group("fmt").lower())
        value = _FORMAT_LOOKUP.get(word)
        if value is None:
            continue
        role = EXCLUDED if match.group("neg") else None
        found.append(
            Found(
                match.start("fmt"),
                match.end(),
                match.group(0)[len(match.group("neg") or "") :],
                value,
                role,
            )
        )
    return found


_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)


def find_emails(text: str) -> list[Found]:
    """Email addresses in ``text`` (values lower-cased)."""
    return [
        Found(m.start(), m.end(), m.group(0), m.group(0).lower()) for m in _EMAIL.finditer(text)
    ]


CARD_DIGITS = 14
_CARD = re.compile(r"(?<![\d])\d(?:[ \-]?\d){13}(?![\d])")


def find_card_numbers(text: str) -> list[Found]:
    """14-digit library card numbers, spaces and dashes allowed; values are the digits."""
    found = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) == CARD_DIGITS:
            found.append(Found(match.start(), match.end(), match.group(0), digits))
    return found


_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "couple of": 2, "a couple of": 2, "few": 3, "a few": 3}  # fmt: skip
_WD = _alternation(list(_WEEKDAYS))
_MO = _alternation(list(_MONTHS))
_NUM = r"(\d{1,2}|" + _alternation(list(_NUMBERS)) + r")"
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("relative_week", re.compile(r"\b(next|this|the following)\s+week\b", re.IGNORECASE)),
    ("in_units", re.compile(rf"\bin\s+{_NUM}\s+(days?|weeks?)\b", re.IGNORECASE)),
    (
        "day_month",
        re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_MO})\b\.?", re.IGNORECASE),
    ),
    ("month_day", re.compile(rf"\b({_MO})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.IGNORECASE)),
    ("day_after", re.compile(r"\bday after tomorrow\b", re.IGNORECASE)),
    ("tomorrow", re.compile(r"\b(?:tomorrow|tmrw|tomorow|tommorow)\b", re.IGNORECASE)),
    ("today", re.compile(r"\b(?:today|tonight)\b", re.IGNORECASE)),
    ("weekday", re.compile(rf"\b(?:(next|this|coming)\s+)?({_WD})\b", re.IGNORECASE)),
)
_DEADLINE = re.compile(
    r"(?:\bby|\bbefore|\buntil|\btill|\bno later than)\s+(?:the\s+)?$", re.IGNORECASE
)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _resolve(kind: str, match: re.Match[str], today: date) -> date | None:
    if kind == "relative_week":
        qualifier = match.group(1).lower()
        return _monday(today) + timedelta(days=0 if qualifier == "this" else 7)
    if kind == "in_units":
        raw = match.group(1).lower()
        count = int(raw) if raw.isdigit() else _NUMBERS[raw]
        unit = 7 if match.group(2).lower().startswith("week") else 1
        return today + timedelta(days=count * unit)
    if kind in ("day_month", "month_day"):
        day_text, month_text = (
            (match.group(1), match.group(2))
            if kind == "day_month"
            else (match.group(2), match.group(1))
        )
        month = _MONTHS[month_text.lower()]
        for year in (today.year, today.year + 1):
            try:
                candidate = date(year, month, int(day_text))
            except ValueError:
                return None
            if candidate >= today:
                return candidate
        return None
    if kind == "day_after":
        return today + timedelta(days=2)
    if kind == "tomorrow":
        return today + timedelta(days=1)
    if kind == "today":
        return today
    qualifier = (match.group(1) or "").lower()
    weekday = _WEEKDAYS[match.group(2).lower()]
    if qualifier == "next":
        return _monday(today) + timedelta(days=7 + weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def find_dates(text: str, today: date) -> list[Found]:
    """Dates in ``text``, as ISO values resolved against ``today``.

    "by Friday" is the coming Friday (today when today is Friday); "next week" and
    "this week" are the Monday of that week; "next Monday" is the Monday of next week;
    "in two weeks" counts from today; "24 December" is the next such day. A deadline
    word before the date ("by", "before", "until") has role ``deadline``.

    Args:
        text: The reader's message.
        today: The date to resolve against, in the library's timezone.

    Returns:
        The dates in order of appearance, without overlaps.
    """
    claimed: list[tuple[int, int]] = []
    found: list[Found] = []
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < c_end and c_start < end for c_start, c_end in claimed):
                continue
            # Short day names are too common to trust alone ("sat on the shelf").
            if (
                kind == "weekday"
                and match.group(2).lower() in ("sat", "sun", "mar", "wed")
                and not match.group(1)
                and not _DEADLINE.search(text[:start])
            ):
                continue
            value = _resolve(kind, match, today)
            if value is None:
                continue
            claimed.append((start, end))
            role = "deadline" if _DEADLINE.search(text[:start]) else None
            found.append(Found(start, end, match.group(0), value.isoformat(), role))
    return sorted(found, key=lambda f: f.start)


_SEARCH_LEAD = re.compile(
    r"(?:^|[.!?;]\s+|\b(?:hi|hello|hey)[,!]?\s+)"
    r"(?:(?:can|could|would) (?:you|i|u) (?:please )?(?:tell me )?(?:if|whether)?\s*)?"
    r"(?:please\s+)?"
    r"(?:do (?:you|u) (?:have|stock|hold)|have (?:you|u) got|is there|are there|got any|"
    r"(?:i(?:'m| am) )?looking for|search(?: the catalogue)? for|find(?: me)?|"
    r"(?:i (?:want|would like|'d like) to )?(?:reserve|hold|request|borrow)|put a hold on|"
    r"place (?:a )?hold (?:on|for)|(?:is|are)|i(?:'d| would) like|i want|i need)\s+"
    r"(?:(?:a|an|the|any|some)\s+)?(?:copy|copies)?\s*(?:of\s+)?"
    r"(?:(?:the|a|an)\s+)?(?:(?:paperback|hardback|large[ -]print|e-?book|audio ?book|dvd|"
    r"kindle)\s+(?:version\s+|edition\s+|copy\s+)?of\s+)?",
    re.IGNORECASE,
)
_TITLE_END = re.compile(
    r"(?:\s+(?:available|in stock|on the shelf|at (?:the )?\w+(?: branch| library)?|"
    r"for (?:me|pick-?up|collection|my \w+)|please|pls|in (?:large print|paperback|"
    r"hardback|audio|ebook|dvd)\b.*|to (?:collect|pick)\b.*|sent to\b.*|anywhere)\b.*"
    r"|\s*[?!.]+\s*)$",
    re.IGNORECASE,
)
_BY_AUTHOR = re.compile(
    r"\s+by\s+(?P<author>[A-Z\u00C0-\u024F][\w'.\-\u00C0-\u024F]*"
    r"(?:\s+(?:[A-Z\u00C0-\u024F][\w'.\-\u00C0-\u024F]*|de|van|von|la|le|du|di|da))*"
    r"|[a-z][\w'.-]+(?:\s+[a-z][\w'.-]+){0,2})\s*$",
)
_QUOTED = re.compile(r"[\"“«*_]{1,2}([^\"”»*_\n]{2,120})[\"”»*_]{1,2}")


def find_title_and_author(text: str) -> tuple[Found | None, Found | None]:
    """The title a reader asks for and its author, if named after "by".

    Titles keep their commas ("Cry, the Beloved Country by Alan Paton"): a title runs
    from the request words ("do you have", "reserve", "looking for") to the end of the
    sentence, minus a trailing "by <author>", a branch, "please" and the question mark.
    A quoted or emphasised title ("*Beloved*", “Beloved”) is taken as it stands.

    Args:
        text: The reader's message, already cleaned of markup.

    Returns:
        ``(title, author)``; either may be None.
    """
    quoted = _QUOTED.search(text)
    if quoted:
        title: Found | None = Found(
            quoted.start(1), quoted.end(1), quoted.group(1), quoted.group(1).strip()
        )
        rest = text[quoted.end() :]
        by = _BY_AUTHOR.match(" " + rest.strip(" ,?!.")) if rest.strip() else None
        author = None
        if by:
            offset = text.index(by.group("author"), quoted.end())
            author = Found(
                offset, offset + len(by.group("author")), by.group("author"), by.group("author")
            )
        return title, author
    lead = None
    for match in _SEARCH_LEAD.finditer(text):
        lead = match
        break
    if lead is None:
        return None, None
    start = lead.end()
    segment = text[start:]
    segment = re.split(r"(?<=[?!])\s|\.\s+(?=[A-Z])", segment, maxsplit=1)[0]
    trimmed = segment
    previous = None
    while previous != trimmed:
        previous = trimmed
        trimmed = _TITLE_END.sub("", trimmed).rstrip(" ,")
    author = None
    by = _BY_AUTHOR.search(trimmed)
    if by:
        name = by.group("author").strip()
        a_start = start + by.start("author")
        author = Found(a_start, a_start + len(name), name, name)
        trimmed = trimmed[: by.start()].rstrip(" ,")
    trimmed = trimmed.strip(" ,\"'")
    if len(trimmed) < 2 or trimmed.lower() in {
        "it",
        "one",
        "this",
        "that",
        "them",
        "something",
        "anything",
        "books",
        "a book",
        "book",
    }:
        return None, author
    t_start = text.index(trimmed, start) if trimmed in text[start:] else start
    return Found(t_start, t_start + len(trimmed), trimmed, trimmed), author


def find_branches(text: str, aliases: dict[str, str]) -> list[Found]:
    """Branches named in ``text``.

    Args:
        text: The reader's message.
        aliases: Lower-case name or alias -> branch id (from the library profile and
            the training data's synonyms).

    Returns:
        Non-overlapping matches, longest alias first, with branch ids as values.
    """
    if not aliases:
        return []
    pattern = re.compile(rf"(?<![\w-])(?:{_alternation(list(aliases))})(?![\w-])", re.IGNORECASE)
    return [
        Found(m.start(), m.end(), m.group(0), aliases[re.sub(r"\s+", " ", m.group(0).lower())])
        for m in pattern.finditer(text)
        if re.sub(r"\s+", " ", m.group(0).lower()) in aliases
    ]
