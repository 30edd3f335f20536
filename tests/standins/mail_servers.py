"""Real mail servers on loopback for the email channel's tests.

* :class:`Dovecot` runs Debian's dovecot (``dovecot-imapd``, installed by
  ``scripts/system-deps.sh``) as an unprivileged-port IMAP server with its own
  configuration, users and maildirs in a temporary folder: plaintext login, no TLS.
  Running as root, its login and mail processes run as ``nobody``; otherwise as the
  current user.
* :class:`SmtpSink` is an aiosmtpd server. It records every mail it receives and
  delivers a copy into the IMAP INBOX of a recipient that is a dovecot user, so a
  test can read the library's answer back the way the reader's mail client would.

Tests inject a reader's mail into the library's mailbox with IMAP ``APPEND``
(:meth:`Dovecot.append`).
"""

from __future__ import annotations

import email
import email.policy
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

DOVECOT = "/usr/sbin/dovecot"
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
LIBRARY_ADDRESS = "library@library.test"
LIBRARY_PASSWORD = "library-test-password"


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dovecot_problem() -> str | None:
    """Why dovecot cannot run here, or None when it can."""
    binary = shutil.which("dovecot") or (DOVECOT if os.path.exists(DOVECOT) else None)
    if binary is None:
        return "dovecot is not installed (scripts/system-deps.sh installs dovecot-imapd)"
    if not os.path.exists(DOVECOT_IMAP):
        return "dovecot's IMAP server is missing (install dovecot-imapd)"
    return None


def _accounts() -> tuple[str, str]:
    """The user and group dovecot's unprivileged processes and the mail files run as."""
    if os.getuid() == 0:
        return "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def _config(root: Path, port: int, user: str, group: str) -> str:
    return f"""# dovecot {{version}} test instance (tests/standins/mail_servers.py)
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass(frozen=True)
class StoredMail:
    """One mail in an IMAP folder, with its flags."""

    uid: str
    flags: frozenset[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The parsed mail."""
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Dovecot:
    """A private dovecot IMAP server on a free loopback port."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = dict(users or {LIBRARY_ADDRESS: LIBRARY_PASSWORD})
        # pytest's tmp folders are private to root; dovecot's workers run as nobody.
        self.root = Path(tempfile.mkdtemp(prefix="ric-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.config = self.root / "dovecot.conf"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the server process is up."""
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        """dovecot's log so far."""
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self, address: str, password: str) -> None:
        """Add a mailbox (dovecot re-reads the passwd file on its own)."""
        self.users[address] = password
        self._write_passwd()

    def _write_passwd(self) -> None:
        lines = [f"{name}:{{PLAIN}}{password}::::::" for name, password in self.users.items()]
        (self.root / "passwd").write_text("\n".join(lines) + "\n")
        (self.root / "passwd").chmod(0o644)

    def start(self) -> Dovecot:
        """Write the configuration and start the server; wait until it accepts connections."""
        user, group = _accounts()
        for folder in ("run", "state", "mail"):
            (self.root / folder).mkdir(exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(self.root / "mail", user, group)
        version = subprocess.run(
            ["dovecot", "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.config.write_text(
            _config(self.root, self.port, user, group).replace("{version}", version)
        )
        self._write_passwd()
        # -F keeps the master in the foreground, so it is our child and nothing inherits a
        # pipe we would wait on; its own log goes to log_path.
        self._process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not start:\n{self.log}")

    def stop(self) -> None:
        """Stop the server (its mail stays, so :meth:`start` brings it back as it was)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def destroy(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, user: str = LIBRARY_ADDRESS, mailbox: str = "INBOX") -> imaplib.IMAP4:
        """A logged-in IMAP client with ``mailbox`` selected."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(user, self.users[user])
        client.select(mailbox)
        return client

    def append(self, raw: bytes | EmailMessage, user: str = LIBRARY_ADDRESS) -> None:
        """Put a mail into a user's INBOX, unseen, as a delivery would."""
        data = raw if isinstance(raw, bytes) else raw.as_bytes()
        client = self.connect(user)
        try:
            status, answer = client.append("INBOX", None, None, data)
            assert status == "OK", answer
        finally:
            client.logout()

    def mails(self, user: str = LIBRARY_ADDRESS) -> list[StoredMail]:
        """Every mail in a user's INBOX with its flags, oldest first."""
        client = self.connect(user)
        try:
            _, found = client.uid("SEARCH", "ALL")
            result: list[StoredMail] = []
            for uid in (found[0] or b"").split():
                _, data = client.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
                head, raw = data[0] if isinstance(data[0], tuple) else (b"", b"")
                flags = head.split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode().split()
                result.append(StoredMail(uid.decode(), frozenset(flags), raw))
            return result
        finally:
            client.logout()


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        self.sink.deliver(list(envelope.rcpt_tos), raw)
        return "250 OK"


class SmtpSink:
    """An aiosmtpd server that records mail and delivers it to dovecot users' inboxes."""

    def __init__(self, dovecot: Dovecot | None = None) -> None:
        self.dovecot = dovecot
        self.port = free_port()
        self.received: list[tuple[list[str], EmailMessage]] = []
        self._changed = threading.Condition()
        self._controller = Controller(_SinkHandler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        """Start listening."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def deliver(self, recipients: list[str], raw: bytes) -> None:
        """Record one received mail and copy it into the recipients' IMAP inboxes."""
        # Parsed with Python's line endings, so get_content() compares with literals.
        message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if self.dovecot is not None:
            for recipient in recipients:
                if recipient.lower() in self.dovecot.users:
                    self.dovecot.append(raw, recipient.lower())
        with self._changed:
            self.received.append((recipients, message))
            self._changed.notify_all()

    def to(self, address: str) -> list[EmailMessage]:
        """Every mail received for ``address``, in order."""
        with self._changed:
            return [m for rcpts, m in self.received if address.lower() in map(str.lower, rcpts)]

    def wait_for(
        self,
        address: str,
        count: int = 1,
        timeout: float = 60.0,
        where: Callable[[EmailMessage], bool] | None = None,
    ) -> list[EmailMessage]:
        """Wait until ``count`` mails (matching ``where``) reached ``address``; return them all.

        Raises:
            AssertionError: fewer arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    m
                    for rcpts, m in self.received
                    if address.lower() in map(str.lower, rcpts) and (where is None or where(m))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} mail(s) to {address}, got {len(found)}")
                self._changed.wait(remaining)


@dataclass
class MailServers:
    """The library's IMAP mailbox and the SMTP server the library sends through."""

    dovecot: Dovecot
    smtp: SmtpSink

    def env(self, poll_seconds: float = 0.5, rate_limit: str = "3/hour") -> dict[str, str]:
        """``RIC_EMAIL_*`` variables that point the email channel at these servers."""
        return {
            "RIC_EMAIL_IMAP_HOST": "127.0.0.1",
            "RIC_EMAIL_IMAP_PORT": str(self.dovecot.port),
            "RIC_EMAIL_IMAP_USER": LIBRARY_ADDRESS,
            "RIC_EMAIL_IMAP_PASSWORD": self.dovecot.users[LIBRARY_ADDRESS],
            "RIC_EMAIL_IMAP_MAILBOX": "INBOX",
            "RIC_EMAIL_IMAP_SSL": "0",
            "RIC_EMAIL_SMTP_HOST": "127.0.0.1",
            "RIC_EMAIL_SMTP_PORT": str(self.smtp.port),
            "RIC_EMAIL_SMTP_USER": "",
            "RIC_EMAIL_SMTP_PASSWORD": "",
            "RIC_EMAIL_SMTP_STARTTLS": "0",
            "RIC_EMAIL_FROM": f"Riverbend Library <{LIBRARY_ADDRESS}>",
            "RIC_EMAIL_POLL_SECONDS": str(poll_seconds),
            "RIC_EMAIL_RATE_LIMIT": rate_limit,
        }

    def stop(self) -> None:
        """Stop both servers and delete the mail folder."""
        self.smtp.stop()
        self.dovecot.destroy()


def start_mail_servers(readers: dict[str, str] | None = None) -> MailServers:
    """Start dovecot (with the library's mailbox and ``readers``' mailboxes) and the SMTP sink."""
    dovecot = Dovecot({LIBRARY_ADDRESS: LIBRARY_PASSWORD, **(readers or {})}).start()
    try:
        smtp = SmtpSink(dovecot).start()
    except Exception:
        dovecot.destroy()
        raise
    return MailServers(dovecot, smtp)
