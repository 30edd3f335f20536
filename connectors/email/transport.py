"""IMAP and SMTP with the standard library, blocking; the channel calls them in a thread.

:class:`Mailbox` wraps one ``imaplib`` connection to the library's folder and only
ever uses ``BODY.PEEK`` to read, so a mail becomes ``\\Seen`` only when the channel
says so. :func:`send_mail` delivers one message with ``smtplib``.

Exceptions::

    EmailTransportError        any IMAP or SMTP failure (network, login, protocol)
"""

from __future__ import annotations

import imaplib
import re
import smtplib
import ssl
from email.message import EmailMessage

from connectors.email.settings import EmailSettings

__all__ = ["EmailTransportError", "Mailbox", "send_mail"]

TIMEOUT_SECONDS = 30.0
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class EmailTransportError(Exception):
    """The IMAP or SMTP server could not be reached or refused a command."""


_FAILURES = (imaplib.IMAP4.error, smtplib.SMTPException, OSError, EOFError, ssl.SSLError)


class Mailbox:
    """One logged-in IMAP connection to the library's mailbox folder."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self._imap: imaplib.IMAP4 | None = None

    @property
    def connected(self) -> bool:
        """Whether a connection is open (it may still turn out to be dead)."""
        return self._imap is not None

    def connect(self) -> None:
        """Connect, log in and select the folder.

        Raises:
            EmailTransportError: the server is unreachable or refused the login.
        """
        self.close()
        settings = self.settings
        try:
            if settings.imap_ssl:
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.imap_host,
                    settings.imap_port,
                    ssl_context=ssl.create_default_context(),
                    timeout=TIMEOUT_SECONDS,
                )
            else:
                imap = imaplib.IMAP4(settings.imap_host, settings.imap_port, TIMEOUT_SECONDS)
            imap.login(settings.imap_user, settings.imap_password)
            status, _ = imap.select(_quoted(settings.imap_mailbox))
            if status != "OK":
                imap.logout()
                raise EmailTransportError(f"cannot open the folder {settings.imap_mailbox!r}")
        except _FAILURES as error:
            raise EmailTransportError(
                f"IMAP {settings.imap_host}:{settings.imap_port}: {type(error).__name__}: {error}"
            ) from error
        self._imap = imap

    def close(self) -> None:
        """Log out, ignoring a connection that is already gone."""
        imap, self._imap = self._imap, None
        if imap is None:
            return
        try:
            imap.logout()
        except _FAILURES:
            # The server or network is already gone; there is nothing left to close.
            return

    def _call(self, command: str, *args: str) -> list[object]:
        if self._imap is None:
            self.connect()
        assert self._imap is not None
        try:
            status, data = self._imap.uid(command, *args)
        except _FAILURES as error:
            self.close()
            raise EmailTransportError(f"IMAP {command}: {type(error).__name__}: {error}") from error
        if status != "OK":
            raise EmailTransportError(f"IMAP {command} answered {status}")
        return list(data)

    def unseen(self) -> list[str]:
        """UIDs of the folder's mails without ``\\Seen``, oldest first."""
        self.noop()
        data = self._call("SEARCH", "UNSEEN")
        found = data[0] if data and isinstance(data[0], bytes) else b""
        return [uid.decode() for uid in found.split()]

    def noop(self) -> None:
        """Ask the server for news (new mail shows up in the next search)."""
        if self._imap is None:
            self.connect()
        assert self._imap is not None
        try:
            self._imap.noop()
        except _FAILURES as error:
            self.close()
            raise EmailTransportError(f"IMAP NOOP: {type(error).__name__}: {error}") from error

    def size(self, uid: str) -> int:
        """The size of one mail in bytes (0 when the mail is gone)."""
        for item in self._call("FETCH", uid, "(RFC822.SIZE)"):
            line = item[0] if isinstance(item, tuple) else item
            if isinstance(line, bytes) and (match := _SIZE.search(line)):
                return int(match.group(1))
        return 0

    def fetch(self, uid: str, headers_only: bool = False) -> bytes | None:
        """One mail's raw bytes (or only its header), without setting ``\\Seen``."""
        section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        for item in self._call("FETCH", uid, f"({section})"):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def add_flags(self, uid: str, *flags: str) -> None:
        """Add flags such as ``\\Seen`` or ``\\Flagged`` to one mail."""
        self._call("STORE", uid, "+FLAGS", f"({' '.join(flags)})")


def _quoted(mailbox: str) -> str:
    escaped = mailbox.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def open_smtp(settings: EmailSettings) -> smtplib.SMTP:
    """A connected SMTP client: implicit TLS on port 465, else STARTTLS when configured;
    logged in only when ``RIC_EMAIL_SMTP_USER`` is set. Use it as a context manager."""
    if settings.smtp_port == 465:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
    try:
        if settings.smtp_starttls and settings.smtp_port != 465:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
    except BaseException:
        client.close()
        raise
    return client


def send_mail(settings: EmailSettings, message: EmailMessage) -> None:
    """Deliver one message through the configured SMTP server.

    Port 465 uses implicit TLS; otherwise STARTTLS is used when enabled. The server
    is logged in to only when ``RIC_EMAIL_SMTP_USER`` is set.

    Raises:
        EmailTransportError: the server is unreachable or refused the message.
    """
    try:
        with open_smtp(settings) as client:
            client.send_message(message)
    except _FAILURES as error:
        raise EmailTransportError(
            f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(error).__name__}: {error}"
        ) from error
