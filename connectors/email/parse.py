"""Read one inbound email: who sent it, which thread it belongs to, and what the reader wrote.

Pure functions over the raw RFC 5322 bytes, parsed with the standard library's
``email`` package (``policy=default``). Nothing here touches the network or a
database, so every rule is unit-tested on literal messages.

Loop protection lives here too: :func:`automated_reason` recognises auto-replies,
bounces and bulk mail (RFC 3834 ``Auto-Submitted``, ``Precedence``, mailing-list
headers, ``X-Autoreply``, the null return path ``<>``, delivery reports, and
``mailer-daemon`` / ``postmaster`` / ``no-reply`` senders), which the channel never
answers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from connectors.email.text import clean_email_body, html_to_text
from messaging.text_safety import clean_text

__all__ = [
    "InboundMail",
    "MalformedMail",
    "automated_reason",
    "message_ids",
    "parse_mail",
]

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_ROBOT_LOCAL_PARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+-].*)?$", re.IGNORECASE
)
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")
_MAX_ID_CHARS = 500


class MalformedMail(ValueError):
    """The mail cannot be answered: no usable sender address, or unreadable structure."""


@dataclass(frozen=True)
class InboundMail:
    """What the channel needs from one inbound email.

    Attributes:
        message_id: the ``Message-ID`` with angle brackets; a stable synthetic id
            (a hash of the raw bytes) when the mail has none.
        in_reply_to: the ``In-Reply-To`` id, if any.
        references: the ``References`` ids, oldest first.
        sender: the ``From`` address, lowercased.
        sender_name: the ``From`` display name (may be empty).
        subject: the subject as sent.
        body: the reader's own text (quotes and signature removed).
        html_only: the mail had no ``text/plain`` body, only HTML.
        attachments: file names of attached files (``"unnamed"`` when a file has no name).
        automated: why the mail is automated (see :func:`automated_reason`), or None.
    """

    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    sender: str
    sender_name: str
    subject: str
    body: str
    html_only: bool
    attachments: tuple[str, ...]
    automated: str | None

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Ids that may name an earlier mail of this thread, the most specific first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids.extend(reversed(self.references))
        return tuple(dict.fromkeys(ids))

    @property
    def thread_root(self) -> str:
        """The id a brand-new thread is known by: its first mail's id as far as we can tell."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.message_id


def message_ids(value: str | None) -> list[str]:
    """Extract ``<id@host>`` tokens from a ``Message-ID`` / ``References`` style header."""
    if not value:
        return []
    return [clean_text(token[:_MAX_ID_CHARS]) for token in _MESSAGE_ID.findall(str(value))]


def _header(message: Message, name: str) -> str:
    """A header as text, or "" when it is missing or cannot be decoded."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError, LookupError):
        return ""
    return "" if value is None else str(value)


def _sender(message: Message) -> tuple[str, str]:
    raw = _header(message, "From")
    if not raw:
        raise MalformedMail("no From header")
    try:
        pairs = getaddresses([raw])
    except (ValueError, TypeError, IndexError) as error:
        raise MalformedMail("unreadable From header") from error
    for name, address in pairs:
        address = address.strip().lower()
        if re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
            return address, name.strip()
    raise MalformedMail("no usable address in the From header")


def automated_reason(message: Message, sender: str, own_address: str = "") -> str | None:
    """Say why a mail must not be answered, or return None for a person's mail.

    Args:
        message: the parsed mail.
        sender: its lowercased ``From`` address.
        own_address: the library mailbox's address; mail from it is our own.

    Returns:
        A short reason (``"auto-submitted"``, ``"precedence bulk"``, ``"mailing list"``,
        ``"autoreply header"``, ``"null return path"``, ``"delivery report"``,
        ``"system sender"``, ``"own address"``) or None.
    """
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return "auto-submitted"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"precedence {precedence}"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing list"
    if any(_header(message, name) for name in _AUTOREPLY_HEADERS):
        return "autoreply header"
    if _header(message, "Return-Path").strip() == "<>":
        return "null return path"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    if _ROBOT_LOCAL_PARTS.match(sender.split("@", 1)[0]):
        return "system sender"
    if own_address and sender == own_address.strip().lower():
        return "own address"
    return None


def _decoded_text(part: Message) -> str:
    """A text part's content, tolerating unknown charsets and broken encodings."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, ValueError, TypeError, AssertionError, KeyError):
        pass
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return ""


def _body(message: EmailMessage) -> tuple[str, bool]:
    """The reader's text (plain preferred, else HTML converted) and whether it was HTML only."""
    try:
        plain = message.get_body(preferencelist=("plain",))
        html = None if plain is not None else message.get_body(preferencelist=("html",))
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise MalformedMail("unreadable MIME structure") from error
    if plain is not None:
        return _decoded_text(plain), False
    if html is not None:
        return html_to_text(_decoded_text(html)), True
    if message.get_content_maintype() == "text":
        return _decoded_text(message), False
    return "", False


def _attachments(message: EmailMessage) -> tuple[str, ...]:
    names: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        is_file = disposition == "attachment" or (
            filename is not None and part.get_content_maintype() != "text"
        )
        if is_file:
            names.append(clean_text(filename or "unnamed").strip() or "unnamed")
    return tuple(names)


def parse_mail(raw: bytes, own_address: str = "") -> InboundMail:
    """Parse one raw mail into what the channel needs.

    Args:
        raw: the message exactly as fetched from IMAP.
        own_address: the library mailbox's address (mail from it is never answered).

    Returns:
        The parsed mail; ``automated`` says whether it must be left unanswered.

    Raises:
        MalformedMail: the mail has no usable ``From`` address or an unreadable structure.
    """
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    sender, sender_name = _sender(message)
    sender, sender_name = clean_text(sender), clean_text(sender_name)
    ids = message_ids(_header(message, "Message-ID"))
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"
    reply_to = message_ids(_header(message, "In-Reply-To"))
    text, html_only = _body(message)
    return InboundMail(
        message_id=message_id,
        in_reply_to=reply_to[0] if reply_to else None,
        references=tuple(message_ids(_header(message, "References"))),
        sender=sender,
        sender_name=sender_name,
        subject=clean_text(_header(message, "Subject")).strip(),
        body=clean_email_body(clean_text(text)),
        html_only=html_only,
        attachments=_attachments(message),
        automated=automated_reason(message, sender, own_address),
    )
