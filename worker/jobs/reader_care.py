"""Job: due-date reminders and hold-ready notices, only for readers who opted in.

Consent lives in ``reader_preferences`` (one row per reader): nothing is sent unless
``due_date_reminders`` or ``hold_ready_notices`` is true there. Readers opt in in the
chat (``subscribe_reminders``, after signing in) or through the console API, and opt
out by answering "stop", pressing the "Stop reminders" button under every reminder, or
through the console API.

For each consenting reader the job asks the library-system adapter
(``RIC_LIBRARY_SYSTEM``) for their loans and holds, using the patron id remembered at
opt-in or else a look-up by ``Reader.card_number``:

- a loan due within ``reminder_days`` (the reader's own, default 3) gets one reminder
  per loan *per due date* (a renewed loan is reminded again before its new date);
- a hold that is ``ready_for_pickup`` gets one notice per hold.

Once only: the reminder is first inserted in ``sent_reminders`` under the unique key
(reader, kind, item), which is the claim; a second run or a second worker finds the
key taken. Delivery: ``EXTERNAL_due_reminder`` / ``EXTERNAL_hold_ready`` with the text
(computed here) as the ``outreach_text`` entity, on the reader's latest reachable
conversation. A reader with no reachable channel: the row is kept as
``undeliverable`` (never silently dropped). A failed Rasa call deletes the claim so
the next run tries again. Nothing is sent during quiet hours (``RIC_QUIET_HOURS``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import Reader
from crm_store.models.operations import ReaderPreference, SentReminder
from crm_store.models.statuses import ReminderStatus
from crm_store.outreach import latest_reachable_conversation
from library.ils import (
    Hold,
    LibrarySystem,
    LibrarySystemError,
    Loan,
    get_library_system,
)
from library.profile import library_today
from messaging.logs import conversation_scope
from messaging.outbox import NO_CHANNEL, SendCounts, attempt, insert_once, mark_sent
from messaging.rasa_client import RasaClient
from worker.jobs._outreach import quiet_until, with_rasa
from worker.jobs._resources import store_sessions

logger = logging.getLogger(__name__)

DUE_INTENT = "EXTERNAL_due_reminder"
HOLD_INTENT = "EXTERNAL_hold_ready"


@dataclass
class CareRun(SendCounts):
    """What one run of :func:`send_reminders` did."""

    already: int = 0
    readers: int = 0
    texts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Consent:
    reader_id: int
    card_number: str | None
    patron_id: str | None
    due_reminders: bool
    hold_notices: bool
    days: int


@dataclass(frozen=True)
class _Item:
    kind: str
    key: str
    intent: str
    text: str


def due_text(loan: Loan, today: date) -> str:
    """The reminder a reader gets for one loan."""
    days = (loan.due_date - today).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return (
        f"Reminder from the library: “{loan.title}” is due back {when} "
        f"({loan.due_date:%A %d %B}). You can renew it here: just ask me to renew your loans."
    )


def hold_text(hold: Hold) -> str:
    """The notice a reader gets when a hold is ready."""
    by = f" by {hold.pickup_by:%A %d %B}" if hold.pickup_by else ""
    return (
        f"Good news: your hold “{hold.title}” is ready to collect at "
        f"{hold.pickup_branch.title()}{by}."
    )


def _consenting(session: Session) -> list[_Consent]:
    rows = session.execute(
        select(ReaderPreference, Reader.card_number)
        .join(Reader, Reader.id == ReaderPreference.reader_id)
        .where(
            ReaderPreference.due_date_reminders.is_(True)
            | ReaderPreference.hold_ready_notices.is_(True)
        )
        .order_by(ReaderPreference.reader_id)
    ).all()
    return [
        _Consent(
            reader_id=int(pref.reader_id),
            card_number=card,
            patron_id=pref.library_patron_id,
            due_reminders=bool(pref.due_date_reminders),
            hold_notices=bool(pref.hold_ready_notices),
            days=int(pref.reminder_days if pref.reminder_days is not None else 3),
        )
        for pref, card in rows
    ]


async def _items(system: LibrarySystem, consent: _Consent, today: date) -> list[_Item]:
    patron_id = consent.patron_id
    if not patron_id and consent.card_number:
        patron_id = await system.patron_id_for_card(consent.card_number)
    if not patron_id:
        logger.warning("reader %d opted in but has no library account on file", consent.reader_id)
        return []
    items: list[_Item] = []
    if consent.due_reminders:
        for loan in await system.loans(patron_id):
            if 0 <= (loan.due_date - today).days <= consent.days:
                items.append(
                    _Item(
                        "due",
                        f"{loan.item_id}:{loan.due_date.isoformat()}",
                        DUE_INTENT,
                        due_text(loan, today),
                    )
                )
    if consent.hold_notices:
        for hold in await system.holds(patron_id):
            if hold.status == "ready_for_pickup":
                items.append(_Item("hold", hold.hold_id, HOLD_INTENT, hold_text(hold)))
    return items


def _claim(session: Session, reader_id: int, item: _Item, current: datetime) -> SentReminder | None:
    row = SentReminder(
        reader_id=reader_id,
        kind=item.kind,
        item_key=item.key[:200],
        status=ReminderStatus.SENDING.value,
        text=item.text,
        created_at=current,
    )
    return row if insert_once(session, row) else None


def _still_consents(session: Session, reader_id: int, kind: str) -> bool:
    pref = session.execute(
        select(ReaderPreference).where(ReaderPreference.reader_id == reader_id)
    ).scalar_one_or_none()
    if pref is None:
        return False
    return bool(pref.due_date_reminders if kind == "due" else pref.hold_ready_notices)


def send_reminders(
    sessions: sessionmaker[Session] | None = None,
    rasa: RasaClient | None = None,
    system: LibrarySystem | None = None,
) -> CareRun:
    """Send every due-date reminder and hold notice that is due; safe to run any time."""
    factory = sessions or store_sessions()
    current = clock.now()
    run = CareRun()
    if quiet_until(current) is not None:
        return run
    today = library_today(current)
    with factory() as session:
        consents = _consenting(session)
    if not consents:
        return run
    library = system or get_library_system()

    async def work(client: RasaClient) -> None:
        for consent in consents:
            run.readers += 1
            try:
                items = await _items(library, consent, today)
            except LibrarySystemError as error:
                logger.warning(
                    "library system: no reminders for reader %d: %s", consent.reader_id, error
                )
                continue
            for item in items:
                await _deliver(factory, client, consent.reader_id, item, current, run)

    with_rasa(work, rasa)
    if run.sent or run.undeliverable:
        logger.info(
            "reader care: %d sent, %d undeliverable, %d failed",
            run.sent,
            run.undeliverable,
            run.failed,
        )
    return run


async def _deliver(
    factory: sessionmaker[Session],
    client: RasaClient,
    reader_id: int,
    item: _Item,
    current: datetime,
    run: CareRun,
) -> None:
    with factory.begin() as session:
        # Re-checked here: a reader who said "stop" a moment ago gets nothing more.
        if not _still_consents(session, reader_id, item.kind):
            return
        row = _claim(session, reader_id, item, current)
        if row is None:
            run.already += 1
            return
        target = latest_reachable_conversation(session, reader_id)
        if target is None:
            row.status = ReminderStatus.UNDELIVERABLE.value
            row.last_error = NO_CHANNEL
            run.undeliverable += 1
            logger.warning("reminder %s for reader %d undeliverable", item.key, reader_id)
            return
        row.conversation_id = target.id
        reminder_id = int(row.id)
        sender_id, channel = str(target.sender_id), str(target.channel)
    with conversation_scope(sender_id):
        await _send(factory, client, reminder_id, sender_id, channel, item, run)


async def _send(
    factory: sessionmaker[Session],
    client: RasaClient,
    reminder_id: int,
    sender_id: str,
    channel: str,
    item: _Item,
    run: CareRun,
) -> None:
    """Trigger a claimed reminder in the reader's conversation and record the outcome."""
    trigger = client.trigger_intent(
        sender_id, item.intent, output_channel=channel, entities={"outreach_text": item.text}
    )
    if await attempt(trigger, f"reminder {reminder_id}") is not None:
        # The insert was the claim: without it, the next run tries again.
        with factory.begin() as session:
            claimed = session.get(SentReminder, reminder_id)
            if claimed is not None:
                session.delete(claimed)
        run.failed += 1
        return
    with factory.begin() as session:
        sent = session.get(SentReminder, reminder_id)
        assert sent is not None
        mark_sent(sent, clock.now())
    run.sent += 1
    run.texts.append(item.text)
