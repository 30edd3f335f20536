"""Check the email channel's connection: ``python -m connectors.email.check [--send-to ADDRESS]``.

Reads the same ``RIC_EMAIL_*`` variables as the channel, logs in to the IMAP
mailbox (and counts its unseen mails, without changing any flag), connects and
logs in to the SMTP server, and, with ``--send-to``, sends one test mail. Prints
one line per step; passwords are never printed. Exits 0 when every step worked.
"""

from __future__ import annotations

import argparse
import smtplib
import sys
from collections.abc import Sequence

from connectors.email.render import RenderedMail, build_mail, new_message_id
from connectors.email.settings import EmailSettings
from connectors.email.transport import EmailTransportError, Mailbox, open_smtp, send_mail

__all__ = ["check", "main"]


def _check_smtp(settings: EmailSettings) -> None:
    try:
        with open_smtp(settings) as client:
            client.noop()
    except (smtplib.SMTPException, OSError) as error:
        raise EmailTransportError(f"{type(error).__name__}: {error}") from error


def check(settings: EmailSettings, send_to: str | None = None) -> list[tuple[bool, str]]:
    """Run the checks; return ``(ok, message)`` for each step."""
    results: list[tuple[bool, str]] = []
    if not settings.inbound_configured:
        results.append((False, "IMAP: set RIC_EMAIL_IMAP_HOST and RIC_EMAIL_IMAP_USER"))
    else:
        mailbox = Mailbox(settings)
        where = f"{settings.imap_user} on {settings.imap_host}:{settings.imap_port}"
        try:
            mailbox.connect()
            unseen = len(mailbox.unseen())
            results.append(
                (
                    True,
                    f"IMAP: logged in as {where}, folder {settings.imap_mailbox!r}: "
                    f"{unseen} unseen mail(s)",
                )
            )
        except EmailTransportError as error:
            results.append((False, f"IMAP: {where}: {error}"))
        finally:
            mailbox.close()
    if not settings.outbound_configured:
        results.append((False, "SMTP: set RIC_EMAIL_SMTP_HOST and RIC_EMAIL_FROM"))
        return results
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        _check_smtp(settings)
        results.append(
            (
                True,
                f"SMTP: connected to {where}"
                + (f" as {settings.smtp_user}" if settings.smtp_user else ""),
            )
        )
    except EmailTransportError as error:
        results.append((False, f"SMTP: {where}: {error}"))
        return results
    if send_to:
        mail = build_mail(
            from_address=settings.from_address,
            to=send_to,
            subject="Reader Interaction Center: test mail",
            body=RenderedMail("This is a test of the library's email channel.").text,
            message_id=new_message_id(settings.from_address),
            in_reply_to=None,
            references=[],
            auto_submitted="auto-generated",
        )
        try:
            send_mail(settings, mail)
            results.append((True, f"SMTP: sent a test mail to {send_to}"))
        except EmailTransportError as error:
            results.append((False, f"SMTP: sending to {send_to} failed: {error}"))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m connectors.email.check", description=__doc__)
    parser.add_argument("--send-to", metavar="ADDRESS", help="also send one test mail there")
    args = parser.parse_args(argv)
    try:
        settings = EmailSettings.from_env()
    except ValueError as error:
        print(f"✗ settings: {error}")
        return 2
    results = check(settings, args.send_to)
    for ok, message in results:
        print(f"{'✓' if ok else '✗'} {message}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
