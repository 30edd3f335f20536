"""Jobs: remind staff of unanswered tickets, and follow up with readers on a set day.

**Ticket reminders** (:func:`remind_stale_tickets`). A ticket that is ``new`` or ``open``
and has had no staff reply for ``RIC_TICKET_REMINDER_HOURS`` (24) since it was created
or last answered gets a console notification (for its assignee, or for every librarian
when unassigned) and an email to the same people. The notification's unique
``dedupe_key`` (``ticket_reminder:<ticket>:<since>:<period>``) makes it once per ticket
per reminder period, also with two workers; whoever inserts it sends the email. Email
uses ``RIC_EMAIL_SMTP_HOST``/``RIC_EMAIL_SMTP_PORT``/``RIC_EMAIL_FROM`` (plus optional
``RIC_EMAIL_SMTP_USER``/``RIC_EMAIL_SMTP_PASSWORD``/``RIC_EMAIL_SMTP_STARTTLS``, as the
email channel reads them); when
they are unset, or the server fails, the notification stays and the log says why.

**Follow-ups** (:func:`send_due_follow_ups`). A librarian marks a conversation "follow
up on <date>" (``POST /api/conversations/{id}/follow-up``). From that date (in the
library's time zone), outside quiet hours, the follow-up is claimed and Rasa is asked
to run ``EXTERNAL_follow_up`` on the reader's latest reachable conversation (or the
conversation itself for an unlinked reader). The bot asks "Did that sort things out?";
the answer lands on the follow-up row and in a notification to the librarian. A reader
with no reachable channel makes the follow-up ``undeliverable`` and the librarian is
told; one Rasa cannot reach stays scheduled and is retried at the next run.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import (
    Conversation,
    OutboundMessage,
    StaffRole,
    StaffUser,
    Ticket,
    TicketStatus,
)
from crm_store.models.operations import FollowUp, Notification
from crm_store.models.statuses import FollowUpStatus
from crm_store.outreach import latest_reachable_conversation
from library.profile import library_today
from messaging.logs import conversation_scope
from messaging.outbox import (
    NO_CHANNEL,
    SENT,
    Outbox,
    attempt,
    claim,
    claimable,
    record_outcome,
    settle,
)
from messaging.outreach_store import notify
from messaging.rasa_client import RasaClient
from ric_config import EmailConfig, SettingsError, WorkerConfig
from worker.jobs._outreach import (
    CLAIM_TIMEOUT,
    quiet_until,
    reachable_target,
    with_rasa,
)
from worker.jobs._resources import store_sessions

logger = logging.getLogger(__name__)

FOLLOW_UP_INTENT = "EXTERNAL_follow_up"
FOLLOW_UPS = Outbox(
    FollowUp,
    ready=FollowUpStatus.SCHEDULED.value,
    gave_up=FollowUpStatus.UNDELIVERABLE.value,
    claim_timeout=CLAIM_TIMEOUT,
)
"""The follow-ups' outbox: one Rasa cannot reach is retried at every run, without limit."""


# -- email -------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where staff emails go out (the same variables as the email channel)."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """The email channel's SMTP settings; None when no host or sender is set.

        ``RIC_EMAIL_SMTP_STARTTLS`` defaults to on, and the port to 587 with STARTTLS,
        25 without; port 465 means implicit TLS. The sender is ``RIC_EMAIL_FROM`` or
        else ``RIC_EMAIL_IMAP_USER``, as for the email channel (``ric_config.EmailConfig``);
        settings the email channel would refuse are logged, and staff email stays off.
        """
        try:
            email = EmailConfig()
        except SettingsError:
            logger.exception("the email settings are wrong; staff email is off")
            return None
        host, sender = email.smtp_host, email.from_address or email.imap_user
        if not host or not sender:
            return None
        starttls = email.smtp_starttls
        return cls(
            host=host,
            port=(587 if starttls else 25) if email.smtp_port is None else email.smtp_port,
            sender=sender,
            user=email.smtp_user or None,
            password=email.smtp_password.get_secret_value() or None,
            starttls=starttls,
        )


def send_staff_email(recipients: list[str], subject: str, body: str) -> str:
    """Email staff; returns ``sent``, ``not_configured``, ``no_recipients`` or ``failed``."""
    if not recipients:
        return "no_recipients"
    settings = SmtpSettings.from_env()
    if settings is None:
        logger.info("no SMTP settings (RIC_EMAIL_SMTP_HOST, RIC_EMAIL_FROM): email not sent")
        return "not_configured"
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(body)
    try:
        deliver_mail(settings, message)
    except (OSError, smtplib.SMTPException):
        logger.exception("could not email staff about %r", subject)
        return "failed"
    return "sent"


def deliver_mail(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server of ``settings`` (implicit TLS on 465, else
    STARTTLS when set, then login when a user and password are set).

    Raises:
        OSError: The server could not be reached.
        smtplib.SMTPException: The server refused the mail or the login.
    """
    client = smtplib.SMTP_SSL if settings.port == 465 else smtplib.SMTP
    with client(settings.host, settings.port, timeout=15) as smtp:
        if settings.starttls and settings.port != 465:
            smtp.starttls()
        if settings.user and settings.password:
            smtp.login(settings.user, settings.password)
        smtp.send_message(message)


def _staff_emails(session: Session, staff_user_id: int | None) -> list[str]:
    query = select(StaffUser.email).where(
        StaffUser.active.is_(True), StaffUser.email.is_not(None), StaffUser.email != ""
    )
    if staff_user_id is not None:
        query = query.where(StaffUser.id == staff_user_id)
    else:
        query = query.where(StaffUser.role.in_([StaffRole.LIBRARIAN, StaffRole.ADMIN]))
    return sorted({str(e) for e in session.execute(query).scalars()})


# -- ticket reminders ----------------------------------------------------------


def reminder_period() -> timedelta:
    """``RIC_TICKET_REMINDER_HOURS`` (24)."""
    return timedelta(hours=max(1, WorkerConfig().ticket_reminder_hours))


def remind_stale_tickets(sessions: sessionmaker[Session] | None = None) -> list[int]:
    """Notify (and email) staff about unanswered open tickets; returns the notification ids."""
    factory = sessions or store_sessions()
    current = clock.now()
    period = reminder_period()
    last_reply = (
        select(OutboundMessage.ticket_id, func.max(OutboundMessage.created_at).label("at"))
        .where(OutboundMessage.ticket_id.is_not(None))
        .group_by(OutboundMessage.ticket_id)
        .subquery()
    )
    emails: list[tuple[int, list[str], str, str]] = []
    created: list[int] = []
    with factory.begin() as session:
        rows = session.execute(
            select(Ticket, last_reply.c.at)
            .outerjoin(last_reply, last_reply.c.ticket_id == Ticket.id)
            .where(Ticket.status.in_([TicketStatus.NEW, TicketStatus.OPEN]))
        ).all()
        for ticket, replied_at in rows:
            since: datetime = max(ticket.created_at, replied_at or ticket.created_at)
            periods = int((current - since) / period)
            if periods < 1:
                continue
            hours = int(period.total_seconds() // 3600) * periods
            title = f"Ticket #{ticket.id} has waited {hours} h for a reply: {ticket.subject}"
            row = notify(
                session,
                dedupe_key=f"ticket_reminder:{ticket.id}:{since.isoformat()}:{periods}",
                kind="ticket_reminder",
                subject=f"ticket:{ticket.id}",
                title=title,
                body=ticket.body[:500],
                link=f"/tickets#{ticket.id}",
                staff_user_id=ticket.assignee_id,
            )
            if row is None:
                continue
            created.append(int(row.id))
            body = (
                f"{title}\n\nNo one has replied to this ticket since {since:%Y-%m-%d %H:%M} UTC."
                "\nOpen the handoff console's Tickets page to answer it.\n"
            )
            emails.append((int(row.id), _staff_emails(session, ticket.assignee_id), title, body))
    for notification_id, recipients, subject, body in emails:
        status = send_staff_email(recipients, subject, body)
        with factory.begin() as session:
            session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(email_status=status)
            )
    if created:
        logger.info("ticket reminders: %d notification(s)", len(created))
    return created


# -- follow-ups ----------------------------------------------------------------


@dataclass(frozen=True)
class _Send:
    follow_up_id: int
    sender_id: str
    channel: str


def _target(session: Session, conversation: Conversation) -> Conversation | None:
    if conversation.reader_id is not None:
        latest = latest_reachable_conversation(session, conversation.reader_id)
        if latest is not None:
            return latest
    return reachable_target(session, conversation)


def send_due_follow_ups(
    sessions: sessionmaker[Session] | None = None, rasa: RasaClient | None = None
) -> list[int]:
    """Send every follow-up whose day has come; returns the ids sent."""
    factory = sessions or store_sessions()
    current = clock.now()
    if quiet_until(current) is not None:
        return []
    today = library_today(current)
    with factory() as session:
        due = list(
            session.execute(
                select(FollowUp.id)
                .where(FollowUp.due_date <= today, claimable(FOLLOW_UPS, current))
                .order_by(FollowUp.due_date, FollowUp.id)
            ).scalars()
        )
    sends: list[_Send] = []
    for follow_up_id in due:
        with factory.begin() as session, contextlib.ExitStack() as item:
            row = session.get(FollowUp, follow_up_id)
            assert row is not None
            conversation = session.get(Conversation, row.conversation_id)
            assert conversation is not None
            item.enter_context(conversation_scope(str(conversation.sender_id)))
            target = _target(session, conversation)
            if not claim(session, FOLLOW_UPS, follow_up_id, current):
                continue
            if target is None:
                settle(session, FOLLOW_UPS, follow_up_id, FOLLOW_UPS.gave_up, NO_CHANNEL)
                notify(
                    session,
                    dedupe_key=f"follow_up_undeliverable:{follow_up_id}",
                    kind="follow_up_undeliverable",
                    subject=f"conversation:{row.conversation_id}",
                    title="A follow-up could not reach the reader (no reachable channel)",
                    link=f"/conversations/{row.conversation_id}",
                    staff_user_id=row.staff_user_id,
                )
                logger.warning("follow-up %d undeliverable: no reachable channel", follow_up_id)
                continue
            sends.append(_Send(follow_up_id, target.sender_id, target.channel))
    sent: list[int] = []
    if not sends:
        return sent

    async def deliver(client: RasaClient) -> None:
        for send in sends:
            with conversation_scope(send.sender_id):  # the conversation it goes to
                trigger = client.trigger_intent(
                    send.sender_id,
                    FOLLOW_UP_INTENT,
                    output_channel=send.channel,
                    entities={"follow_up_id": str(send.follow_up_id)},
                )
                error = await attempt(trigger, f"follow-up {send.follow_up_id}")
                with factory.begin() as session:
                    row = session.get(FollowUp, send.follow_up_id)
                    assert row is not None
                    if record_outcome(row, FOLLOW_UPS, error, clock.now()) == SENT:
                        row.sent_sender_id = send.sender_id
                        row.sent_channel = send.channel
                        sent.append(send.follow_up_id)

    with_rasa(deliver, rasa)
    if sent:
        logger.info("follow-ups: %d sent", len(sent))
    return sent
