"""Turn a reader's email (or email text pasted into any chat) into the text NLU should see.

This is the one shared implementation: the email channel (``connectors/``) uses it on
every inbound mail, and :mod:`nlu_components.message_cleanup` applies it to messages
from every channel, so an earlier reply pasted into the web widget or Telegram is
stripped the same way.

Email replies carry a lot that is not the reader's request: the quoted thread,
client headers ("On ... wrote:", Outlook's "From: / Sent:" block), signatures,
"Sent from my iPhone" footers and legal disclaimers. The functions here are pure
so the email channel and the assistant share one tested implementation:

* :func:`clean_email_body` keeps only what the reader wrote in this message.
* :func:`html_to_text` turns HTML-only mail into plain text (quoted blocks become
  ``>`` lines so :func:`clean_email_body` can drop them).
* :func:`subject_as_text` strips ``Re:`` / ``Fwd:`` / ``[External]`` prefixes.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["clean_email_body", "html_to_text", "subject_as_text"]

# A reply header ends the reader's text: everything below it is the old thread.
_REPLY_HEADERS = (
    re.compile(r"^on\b.{0,300}\bwrote\s*:?$", re.IGNORECASE),  # Gmail, Apple Mail
    re.compile(r"^le\b.{0,300}\ba\s+écrit\s*:?$", re.IGNORECASE),  # French
    re.compile(r"^am\b.{0,300}\bschrieb\b.{0,200}:?$", re.IGNORECASE),  # German
    re.compile(r"^el\b.{0,300}\bescribió\s*:?$", re.IGNORECASE),  # Spanish
    re.compile(r"^il\b.{0,300}\bha\s+scritto\s*:?$", re.IGNORECASE),  # Italian
    re.compile(r"^em\b.{0,300}\bescreveu\s*:?$", re.IGNORECASE),  # Portuguese
    re.compile(r"^op\b.{0,300}\bschreef\b.{0,200}:?$", re.IGNORECASE),  # Dutch
    re.compile(
        r"^-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|"
        r"message d'origine|mensaje original)\s*-{2,}$",
        re.IGNORECASE,
    ),
    re.compile(r"^begin forwarded message\s*:?$", re.IGNORECASE),  # Apple Mail
    re.compile(r"^_{8,}$"),  # Outlook's separator above the header block
)
# Outlook (and Thunderbird) header blocks: "From:" followed by "Sent:" / "To:" ...
_HEADER_FROM = re.compile(r"^\*?(from|de|von|van|da|od)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"^\*?(sent|date|to|subject|cc|envoyé|gesendet|an|betreff|objet|à|enviado|asunto|para)"
    r"\s*:\*?",
    re.IGNORECASE,
)
# A footer line ends the reader's text; nothing below it is theirs either.
_FOOTERS = (
    re.compile(r"^--\s*$"),  # RFC 3676 signature delimiter ("-- ", stripped)
    re.compile(r"^sent from my\b.{0,60}$", re.IGNORECASE),
    re.compile(r"^sent from (mail|outlook|yahoo mail|gmail)\b.{0,60}$", re.IGNORECASE),
    re.compile(r"^get outlook for\b.{0,40}$", re.IGNORECASE),
    re.compile(r"^(envoyé de mon|von meinem|enviado desde mi)\b.{0,60}$", re.IGNORECASE),
    re.compile(r"^(confidentiality notice|disclaimer|confidential)\b", re.IGNORECASE),
    re.compile(
        r"^this (e-?mail|message)( and any (attachments?|files)| is confidential)", re.IGNORECASE
    ),
    re.compile(r"^the information (contained )?in this (e-?mail|message)", re.IGNORECASE),
)
_CLOSER = (
    r"(thanks|thank you|thanks so much|thank you so much|many thanks|thanks again|"
    r"thanks in advance|thank you in advance|thx|ty|cheers|best|best regards|"
    r"kind regards|warm regards|warmest regards|regards|sincerely|yours sincerely|"
    r"sincerely yours|yours truly|all the best|best wishes|with thanks|respectfully|"
    r"take care|talk soon)"
)
_CLOSER_LINE = re.compile(rf"^{_CLOSER}[\s,.!]*$", re.IGNORECASE)
# Names are matched case-sensitively so "Best books for kids" is not a closer.
_CLOSER_WITH_NAME = re.compile(
    rf"^(?i:{_CLOSER})[,!.]?\s+[A-Z][\w.'-]*(\s+[A-Z][\w.'-]*){{0,2}}\.?$"
)
# Lines after a closer that still look like a signature (name, title, phone...).
_MAX_SIGNATURE_LINES = 5
_MAX_SIGNATURE_LINE_CHARS = 70
_INLINE_SPACE = re.compile(r"[ \t\u00a0\u200b]+")
_HAS_CONTENT = re.compile(r"\w")


def _normalise_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]


def _is_quoted(line: str) -> bool:
    return line.startswith(">")


def _is_reply_header(lines: list[str], index: int) -> bool:
    line = lines[index]
    if any(pattern.match(line) for pattern in _REPLY_HEADERS):
        return True
    # Gmail wraps long attributions: "On Mon, ... Jonah Fischer <\njonah@x.edu> wrote:".
    if index + 1 < len(lines) and re.match(r"^(on|le|am|el|il|em|op)\b", line, re.IGNORECASE):
        joined = f"{line} {lines[index + 1]}"
        if any(pattern.match(joined) for pattern in _REPLY_HEADERS[:7]):
            return True
    if _HEADER_FROM.match(line):
        following = [candidate for candidate in lines[index + 1 : index + 6] if candidate]
        return sum(1 for candidate in following if _HEADER_OTHER.match(candidate)) >= 1
    return False


def _is_footer(line: str) -> bool:
    return any(pattern.match(line) for pattern in _FOOTERS)


def _cut_thread_and_footers(lines: list[str]) -> list[str]:
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _is_reply_header(lines, index) or _is_footer(line):
            break
        if _is_quoted(line):
            continue
        kept.append(line)
    return kept


def _cut_closer(lines: list[str]) -> list[str]:
    """Drop a trailing "Thanks,\\nAda" style closer and the short signature after it."""
    content = [index for index, line in enumerate(lines) if line]
    if not content:
        return lines
    last = content[-1]
    if _CLOSER_WITH_NAME.match(lines[last]) and len(lines[last]) <= _MAX_SIGNATURE_LINE_CHARS:
        return lines[:last]
    for index in reversed(content[-(_MAX_SIGNATURE_LINES + 1) :]):
        if _CLOSER_LINE.match(lines[index]):
            tail = [line for line in lines[index + 1 :] if line]
            if len(tail) <= _MAX_SIGNATURE_LINES and all(
                len(line) <= _MAX_SIGNATURE_LINE_CHARS and not line.endswith("?") for line in tail
            ):
                return lines[:index]
            break
    return lines


def _join(lines: list[str]) -> str:
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _fallback_paragraph(lines: list[str]) -> str:
    """The first paragraph with real content, preferring unquoted lines."""
    for quoted in (False, True):
        paragraph: list[str] = []
        for line in lines:
            if _is_quoted(line) != quoted:
                if paragraph:
                    break
                continue
            body = line.lstrip("> ").strip() if quoted else line
            is_noise = _is_footer(body) or any(pattern.match(body) for pattern in _REPLY_HEADERS)
            if not body or is_noise:
                if paragraph:
                    break
                continue
            paragraph.append(body)
        if paragraph:
            return _join(paragraph)
    return ""


def clean_email_body(text: str) -> str:
    """Keep only what the reader wrote in this email.

    Removes the quoted thread (``>`` lines, "On ... wrote:" and its localized
    variants, Outlook's "-----Original Message-----" and "From: / Sent: / To:"
    blocks, ``____`` separators), signatures (``-- ``, "Sent from my iPhone",
    "Get Outlook for iOS", a closing "Thanks,\\nAda" with the lines under it),
    and legal disclaimers, then collapses whitespace. Line breaks are kept
    because they can separate list items.

    Args:
        text: The plain-text body of the email.

    Returns:
        The reader's own text. It is never empty when ``text`` had real content:
        if every line looks like thread or signature, the first paragraph with
        content is returned instead.
    """
    lines = _normalise_lines(text)
    kept = _cut_closer(_cut_thread_and_footers(lines))
    result = _join(kept)
    if _HAS_CONTENT.search(result):
        return result
    if not _HAS_CONTENT.search(text):
        return ""
    return _fallback_paragraph(lines) or _join([line for line in lines if line])


_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
_PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre"}
)
_LINE_TAGS = frozenset(
    {
        "div",
        "li",
        "tr",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "dl",
        "dt",
        "dd",
        "address",
        "figure",
        "figcaption",
        "center",
    }
)
_CELL_TAGS = frozenset({"td", "th"})


class _TextExtractor(HTMLParser):
    """Collects readable lines from HTML; blockquote content becomes ``>`` lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._line_depth = 0
        self._quote_depth = 0
        self._skip_depth = 0
        self._pre_depth = 0
        self._links: list[tuple[str, list[str]]] = []

    def _flush(self, *, blank: bool = False, force: bool = False) -> None:
        line = "".join(self._current)
        if not self._pre_depth:
            line = _INLINE_SPACE.sub(" ", line).strip()
        self._current = []
        if line:
            self.lines.append("> " * self._line_depth + line)
        elif force:
            self.lines.append("")
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")

    def _emit(self, text: str) -> None:
        if not self._current:
            self._line_depth = self._quote_depth
        self._current.append(text)
        for _, link_text in self._links:
            link_text.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
            return
        if tag == "br":
            self._flush(force=True)
        elif tag in _PARAGRAPH_TAGS:
            self._flush(blank=True)
        elif tag in _LINE_TAGS:
            self._flush()
        elif tag in _CELL_TAGS and self._current:
            self._emit(" ")
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        elif tag == "li":
            self._emit("- ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href") or "", []))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self._emit(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in {"br", "img", "hr"}:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag == "a" and self._links:
            href, parts = self._links.pop()
            label = _INLINE_SPACE.sub(" ", "".join(parts)).strip()
            if _link_worth_showing(href, label):
                self._emit(f" ({href})" if label else href)
        elif tag in _PARAGRAPH_TAGS:
            self._flush(blank=True)
        elif tag in _LINE_TAGS:
            self._flush()
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            for number, part in enumerate(data.split("\n")):
                if number:
                    self._flush(force=True)
                if part:
                    self._emit(part)
            return
        text = re.sub(r"\s+", " ", data)
        if not self._current:
            text = text.lstrip()
        if text:
            self._emit(text)

    def text(self) -> str:
        self._flush()
        return _join(self.lines)


def _link_worth_showing(href: str, label: str) -> bool:
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "cid:")):
        return False

    def bare(value: str) -> str:
        value = re.sub(r"^(mailto:|tel:|https?://)", "", value.strip(), flags=re.IGNORECASE)
        return value.removeprefix("www.").rstrip("/").lower()

    return bare(href) != bare(label)


def html_to_text(html: str) -> str:
    """Convert an HTML-only email body to plain text.

    Scripts, styles and the ``<head>`` are dropped; block elements and ``<br>``
    become line breaks; list items become ``- `` lines; a link becomes
    ``text (url)`` when its text differs from its address; entities are
    unescaped. Content inside ``<blockquote>`` (how Gmail, Apple Mail and
    Thunderbird quote the thread) is prefixed with ``> `` so
    :func:`clean_email_body` can remove it.

    Args:
        html: The HTML body.

    Returns:
        Plain text with whitespace collapsed within lines.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:"
    r"(?:re|fw|fwd|aw|wg|tr|sv|vs|antw|rif|enc|res|r)\s*(?:\[\d+\]|\(\d+\))?\s*:"
    r"|\[\s*(?:external|ext|external email|extern|caution|spam)\s*\]"
    r"|\(\s*external\s*\)"
    r"|external\s*:"
    r")\s*",
    re.IGNORECASE,
)


def subject_as_text(subject: str) -> str:
    """Strip reply, forward and "[External]" tags from an email subject.

    Args:
        subject: The raw subject, e.g. ``"RE: Fwd: [External] Renewal"``.

    Returns:
        The subject with every leading tag removed and whitespace collapsed,
        e.g. ``"Renewal"``.
    """
    text = _INLINE_SPACE.sub(" ", subject.replace("\n", " ")).strip()
    while True:
        stripped = _SUBJECT_PREFIX.sub("", text, count=1)
        if stripped == text:
            return text.strip()
        text = stripped
