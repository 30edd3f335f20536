"""Render the assistant's messages as one plain-text email; map a numbered reply to a button.

Pure functions. Email has no buttons, so buttons (and quick replies) become numbered
options with a line such as "Reply with 1, 2 or 3."; a reply that is just one of those
numbers is mapped back to the button's payload by :func:`chosen_payload`. Markdown
links become ``title (url)``, images and attachments their URL, and a list of
elements (catalogue results) a numbered list with each element's buttons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from connectors.email.text import subject_as_text

__all__ = [
    "RenderedMail",
    "attachment_note",
    "build_mail",
    "chosen_payload",
    "new_message_id",
    "render_messages",
    "reply_subject",
]

DEFAULT_SUBJECT = "Your message to the library"
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+|mailto:[^)\s]+)\)")
_CHOICE = re.compile(r"^\s*(?:option\s*|number\s*|no\.?\s*)?#?\s*(\d{1,2})\s*[.)!]?\s*$", re.I)


@dataclass
class RenderedMail:
    """The text of one outbound email and the buttons it offers, in their numbered order."""

    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)


def _options_line(numbers: Sequence[int]) -> str:
    if len(numbers) == 1:
        return f"Reply with {numbers[0]}."
    listed = ", ".join(str(n) for n in numbers[:-1])
    return f"Reply with {listed} or {numbers[-1]}."


def _plain(text: str) -> str:
    return _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text).strip()


def _choices(buttons: Iterable[Any]) -> list[Mapping[str, Any]]:
    return [button for button in buttons if isinstance(button, Mapping)]


class _Renderer:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.buttons: list[dict[str, Any]] = []

    def options(self, buttons: Iterable[Any]) -> None:
        lines: list[str] = []
        numbers: list[int] = []
        for button in _choices(buttons):
            title = _plain(str(button.get("title") or button.get("payload") or ""))
            url = button.get("url")
            if isinstance(url, str) and url:
                lines.append(f"- {title}: {url}")
                continue
            payload = button.get("payload")
            if not isinstance(payload, str):
                continue
            self.buttons.append({"title": title, "payload": payload})
            numbers.append(len(self.buttons))
            lines.append(f"{len(self.buttons)}. {title}")
        if lines:
            if numbers:
                lines.append("")
                lines.append(_options_line(numbers))
            self.blocks.append("\n".join(lines))

    def message(self, message: Mapping[str, Any]) -> None:
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            self.blocks.append(_plain(text))
        self.options(message.get("quick_replies") or message.get("buttons") or [])
        for key, label in (("image", "Image"), ("attachment", "Attachment")):
            value = message.get(key)
            if isinstance(value, str) and value:
                self.blocks.append(f"{label}: {value}")
        elements = message.get("elements")
        if isinstance(elements, list):
            self.elements(elements)
        custom = message.get("custom")
        if isinstance(custom, Mapping) and isinstance(custom.get("text"), str):
            self.blocks.append(_plain(custom["text"]))

    def elements(self, elements: list[Any]) -> None:
        for number, element in enumerate(_choices(elements), start=1):
            title = _plain(str(element.get("title") or ""))
            subtitle = _plain(str(element.get("subtitle") or ""))
            self.blocks.append(f"{number}) {title}" + (f"\n   {subtitle}" if subtitle else ""))
            self.options(element.get("buttons") or [])


def render_messages(
    messages: Iterable[Mapping[str, Any]], preface: Sequence[str] = ()
) -> RenderedMail:
    """Render the assistant's messages of one turn as one email body.

    Args:
        messages: Rasa bot messages (``text``, ``buttons``, ``quick_replies``,
            ``image``, ``attachment``, ``elements``, ``custom``).
        preface: channel notes to put first, such as :func:`attachment_note`.

    Returns:
        The body (paragraphs separated by blank lines) and the buttons, numbered
        from 1 across the whole mail.
    """
    renderer = _Renderer()
    renderer.blocks.extend(note for note in preface if note)
    for message in messages:
        renderer.message(message)
    return RenderedMail("\n\n".join(renderer.blocks).strip(), renderer.buttons)


def chosen_payload(text: str, buttons: Sequence[Mapping[str, Any]]) -> str | None:
    """Map a reply that is just an offered option's number to that button's payload.

    Args:
        text: the reader's text, quotes and signature already removed.
        buttons: the buttons of the mail being answered, in their numbered order.

    Returns:
        The payload, or None when the text is not exactly one offered number.
    """
    match = _CHOICE.match(text)
    if match is None:
        return None
    index = int(match.group(1)) - 1
    if 0 <= index < len(buttons):
        payload = buttons[index].get("payload")
        return payload if isinstance(payload, str) else None
    return None


def attachment_note(names: Sequence[str]) -> str:
    """The sentence that acknowledges attachments the assistant did not open."""
    if not names:
        return ""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    files = "file" if len(names) == 1 else "files"
    return (
        f"I can't open attachments, so I haven't looked at the attached {files} ({shown}). "
        "Please write your question in the text of your email."
    )


def reply_subject(subject: str | None) -> str:
    """``Re: <original subject>``, without stacking ``Re: Re:``."""
    cleaned = subject_as_text(subject or "") or DEFAULT_SUBJECT
    return f"Re: {cleaned}"


def new_message_id(from_address: str) -> str:
    """A fresh, globally unique ``Message-ID`` in the library mailbox's domain."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


def build_mail(
    *,
    from_address: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    auto_submitted: str | None = "auto-replied",
) -> EmailMessage:
    """Build one outbound email with RFC 5322 threading headers.

    Args:
        from_address: the library mailbox (may include a display name).
        to: the reader's address.
        subject: the subject line.
        body: plain-text body.
        message_id: the fresh ``Message-ID``.
        in_reply_to: the mail this one answers (``In-Reply-To``).
        references: the thread's ids, oldest first (``References``).
        auto_submitted: RFC 3834 ``Auto-Submitted`` value (``auto-replied`` for the
            assistant's answers, ``auto-generated`` for its own messages, None for a
            librarian's), which stops other robots from answering us.

    Returns:
        The message, ready for SMTP.
    """
    mail = EmailMessage()
    mail["From"] = from_address
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(timezone.utc))
    mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    if auto_submitted:
        mail["Auto-Submitted"] = auto_submitted
        # Asks Exchange and Outlook not to send out-of-office replies to this mail.
        mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(body if body.endswith("\n") else body + "\n")
    return mail
