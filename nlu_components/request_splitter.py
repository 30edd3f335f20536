"""Split a message that holds several requests into one text per request.

NLU gives one intent per message, so "renew my books and also what time do you
close today? and is there parking at riverside" would be answered as a renewal
only. :func:`split_requests` cuts such a message on sentence ends, question
marks, "and also" / "another thing" style joins and numbered or bulleted lists,
drops greetings and thanks, and glues context sentences ("I'm away next week.")
to the request they explain, so one long polite request stays one request.
Quoted titles ("And Then There Were None") are never cut.
"""

from __future__ import annotations

import re

__all__ = ["split_requests"]

_QUOTED = re.compile(
    r"\"[^\"\n]+\"|“[^”\n]+”|«[^»\n]+»|(?<!\w)'[^'\n]+'(?!\w)|\u2018[^\u2019\n]+\u2019"
)
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")

# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "no",
        "vol",
        "ed",
        "eds",
        "approx",
        "etc",
        "vs",
        "e.g",
        "i.e",
        "p",
        "pp",
        "ch",
        "fig",
        "jr",
        "sr",
    }
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|(?<=\?)(?=\S)")
_BULLET_LINE = re.compile(r"^\s*(?:[-*•·]|\(?\d{1,2}[.)]|\(?[a-h][)])\s+", re.MULTILINE)
_INLINE_BULLET = re.compile(r"\s*•\s*")
_NUMBER_MARKER = re.compile(r"(?:(?<=^)|(?<=[\s:;,]))\(?(\d{1,2})[.)](?=\s)")
_JOINS = re.compile(
    r"(?:^|[,;]?\s+)(?:"
    r"and also|also,|another thing(?: is)?[,:]?|one more thing[,:]?|and one more thing[,:]?|"
    r"plus,|additionally,?|in addition,?|on another note,?|separately,?|"
    r"and (?=(?:can|could|would|will|do|does|is|are) (?:you|i|we|there|it|the|my)\b)|"
    r"and (?=(?:what|when|where|how) (?:time|is|are|do|does|can|about|much|many|long)\b)"
    r")\s*",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|dear \w+|good (?:morning|afternoon|evening)|greetings)"
    r"(?: there| team| all)?[,!.:;-]*\s+|(?:and|also|but|plus|so|oh|ok|okay|then)[,]?\s+)+",
    re.IGNORECASE,
)
_TRAILING_FILLER = re.compile(
    r"[,;-]?\s*(?:thanks|thank you|thx|ty|cheers|many thanks)"
    r"(?: so much| very much| a lot| in advance| again)?[.!]*$",
    re.IGNORECASE,
)
_FILLER_ONLY = re.compile(
    r"^(?:hi|hello|hey|hiya|yo|dear \w+|good (?:morning|afternoon|evening)|greetings|"
    r"thanks|thank you|thx|ty|cheers|many thanks|much appreciated|appreciate it|"
    r"please|ok|okay|bye|goodbye|have a (?:nice|good|great) day|sorry|"
    r"i have (?:a|one|two|three|a few|some|several|a couple of) (?:questions?|things|requests?)|"
    r"(?:two|three|a few|a couple of) (?:things|questions)|quick question)"
    r"(?:\s+(?:there|team|all|so much|very much|a lot|in advance|again|you))*"
    r"(?:,\s*[\w'-]+(?:\s+[\w'-]+)?)?[\s,.!:;)(-]*$",  # "Many thanks, Ada"
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\?|^(?:can|could|would|will|do|does|did|is|are|was|were|how|what|when|where|why|"
    r"which|who|may|should|shall|renew|extend|reserve|hold|cancel|check|find|show|tell|"
    r"give|send|book|search|look|update|change|reset|pay|register|sign|list|help|explain|"
    r"let|please|i'd like|i would like|i want|i need)\b"
    r"|\b(?:can|could|would|will|do|does|did|is|are) (?:you|i|we|someone|there|they)\b"
    r"|\bi(?:'d| would) like\b"
    r"|\bi (?:want|need|wish)\b|\bplease\b|\bi(?:'m| am) (?:looking|trying|wondering)\b"
    r"|\b(?:help|tell|let|show) me\b|\bis (?:it|there) (?:possible|any)\b",
    re.IGNORECASE,
)
# Hard-wrapped email lines are long and continue in lower case; chat lines are not.
_WRAPPED_LINE_CHARS = 60


def _protect_quotes(text: str) -> tuple[str, list[str]]:
    quoted: list[str] = []

    def keep(match: re.Match[str]) -> str:
        quoted.append(match.group(0))
        return f"\x00{len(quoted) - 1}\x00"

    return _QUOTED.sub(keep, text), quoted


def _restore_quotes(text: str, quoted: list[str]) -> str:
    return _PLACEHOLDER.sub(lambda match: quoted[int(match.group(1))], text)


def _split_lines(text: str) -> list[str]:
    """Split on blank lines, list items and chat-style line breaks."""
    blocks: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            blocks.append("")
            continue
        is_item = bool(_BULLET_LINE.match(raw))
        previous = blocks[-1] if blocks else ""
        wrapped = (
            previous
            and not is_item
            and len(previous) >= _WRAPPED_LINE_CHARS
            and previous[-1] not in ".!?:;"
            and line[0].islower()
        )
        if wrapped:
            blocks[-1] = f"{previous} {line}"
        else:
            blocks.append(line)
    return [block for block in blocks if block]


def _split_numbered(text: str) -> list[str]:
    """Split "1) renew 2) hours" on its markers, only when they count up from 1."""
    markers = list(_NUMBER_MARKER.finditer(text))
    cuts: list[re.Match[str]] = []
    expected = 1
    for marker in markers:
        if int(marker.group(1)) == expected:
            cuts.append(marker)
            expected += 1
    if len(cuts) < 2:
        return [text]
    parts = [text[: cuts[0].start()]]
    for index, marker in enumerate(cuts):
        end = cuts[index + 1].start() if index + 1 < len(cuts) else len(text)
        parts.append(text[marker.end() : end])
    return [part.strip(" ,;") for part in parts if part.strip(" ,;:")]


def _split_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].rstrip("\"')]")
        last_word = re.findall(r"[\w.]+$", before[:-1]) if before.endswith(".") else []
        if last_word and (
            last_word[0].lower().rstrip(".") in _ABBREVIATIONS or len(last_word[0]) == 1
        ):
            continue
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def _tidy(fragment: str) -> str:
    fragment = _BULLET_LINE.sub("", fragment.strip(), count=1).strip(" ,;:-\t")
    previous = None
    while previous != fragment:
        previous = fragment
        fragment = _LEADING_FILLER.sub("", fragment).strip(" ,;:-")
        fragment = _TRAILING_FILLER.sub("", fragment).strip(" ,;:-")
    return fragment


def _is_filler(fragment: str) -> bool:
    return not re.search(r"\w", fragment) or bool(_FILLER_ONLY.match(fragment))


def split_requests(text: str) -> list[str]:
    """Split a reader's message into the separate requests it holds.

    Cuts on sentence ends and question marks, on joins such as "and also",
    "also,", "another thing", "one more thing" and "and what time ...", and on
    numbered or bulleted list items. Greetings and thanks are dropped. A sentence
    that asks nothing ("I'm travelling next week.") is kept with the request
    after it (or before it, at the end), so a single long polite message stays
    one request. Text inside quotes is never cut.

    Args:
        text: The message text (already cleaned of email quoting, if any).

    Returns:
        One string per request, in order. A single request gives a one-element
        list; a message that is only a greeting or thanks gives itself, stripped;
        blank text gives an empty list.
    """
    stripped = text.strip()
    if not stripped:
        return []
    protected, quoted = _protect_quotes(stripped)

    # (fragment, explicit): list items are requests even when they ask nothing
    # ("- opening hours tomorrow"); other sentences may be context.
    fragments: list[tuple[str, bool]] = []
    for block in _split_lines(protected):
        is_item = bool(_BULLET_LINE.match(block))
        items = _split_numbered(block)
        for item in items:
            parts = [part for part in _INLINE_BULLET.split(item) if part.strip()]
            explicit = is_item or len(items) > 1 or len(parts) > 1
            for part in parts:
                for sentence in _split_sentences(part):
                    fragments.extend((piece, explicit) for piece in _JOINS.split(sentence))

    requests: list[str] = []
    context: list[str] = []
    for fragment, explicit in fragments:
        tidy = _tidy(fragment)
        if _is_filler(fragment.strip()) or _is_filler(tidy):
            continue
        if explicit or _REQUEST.search(tidy):
            requests.append(" ".join([*context, tidy]))
            context = []
        else:
            context.append(tidy)
    if context:
        if requests:
            requests[-1] = " ".join([requests[-1], *context])
        else:
            requests.append(" ".join(context))
    if not requests:
        return [_restore_quotes(protected, quoted)]
    return [_restore_quotes(request, quoted) for request in requests]
