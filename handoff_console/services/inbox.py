"""The librarian inbox: five lists of conversations, filtered and searched on the server.

The lists are ``waiting`` (the queue, oldest request first), ``mine`` (claimed by the
caller), ``open`` (waiting or claimed), ``resolved`` (latest handoff closed, newest
first) and ``bot`` (never handed to a librarian, newest first). Every list takes
the same filters, parsed by :func:`parse_filters` (a bad value is a 400):

- ``channel``, ``branch`` (the handoff's department), ``tag`` (one of the
  handoff's tags) and ``language`` (the conversation's, ISO 639-1 as the NLU's language
  guard detected it): exact values;
- ``from`` and ``to``: days (YYYY-MM-DD, inclusive) of the conversation's last activity;
- ``q``: words searched in the transcript, case-insensitively, with SQL ``LIKE``
  (``%`` and ``_`` in the words are escaped, so they match themselves), on SQLite
  and PostgreSQL alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import String, cast, exists, false, func, null, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from crm_store.models import (
    Conversation,
    Handoff,
    HandoffStatus,
    Message,
    Reader,
    SenderKind,
    StaffUser,
)
from crm_store.redaction import card_spans, mask_card
from handoff_console.schemas.inbox import InboxCounts, InboxItem, InboxPage
from handoff_console.services.common import OPEN_STATUSES, now
from handoff_console.services.errors import BadRequest
from handoff_console.services.queue import reader_brief

__all__ = ["LISTS", "PAGE_SIZE", "Filters", "inbox_page", "mask_cards", "parse_filters"]

LISTS = ("waiting", "mine", "open", "resolved", "bot")
PAGE_SIZE = 25
MAX_QUERY_CHARS = 200
_TOKEN = re.compile(r"^[\w.-]{1,80}$")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_CLOSED = (HandoffStatus.RESOLVED, HandoffStatus.ABANDONED, HandoffStatus.TICKETED)


@dataclass(frozen=True)
class Filters:
    """The inbox's filters, checked."""

    list: str = "waiting"
    channel: str | None = None
    branch: str | None = None
    tag: str | None = None
    language: str | None = None
    day_from: date | None = None
    day_to: date | None = None
    q: str | None = None
    page: int = 1


def _token(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    if not _TOKEN.match(value):
        raise BadRequest("bad_filter", f"{name} must be a single word (letters, digits, . - _).")
    return value


def _language(args: Mapping[str, str]) -> str | None:
    value = args.get("language", "").strip().lower()
    if not value:
        return None
    if not _LANGUAGE.fullmatch(value):
        raise BadRequest("bad_filter", "language must be a language code such as en or es.")
    return value


def _day(args: Mapping[str, str], name: str) -> date | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest("bad_filter", f"{name} must be a day as YYYY-MM-DD.") from error


def parse_filters(args: Mapping[str, str]) -> Filters:
    """The filters of a query string (first value of each parameter), or a 400.

    Raises:
        BadRequest: an unknown list, a malformed value, ``from`` after ``to``,
            a search longer than 200 characters or a page below 1.
    """
    name = args.get("list", "waiting") or "waiting"
    if name not in LISTS:
        raise BadRequest("bad_filter", f"list must be one of {', '.join(LISTS)}.")
    day_from, day_to = _day(args, "from"), _day(args, "to")
    if day_from and day_to and day_from > day_to:
        raise BadRequest("bad_filter", "from must not be after to.")
    q = args.get("q", "").strip() or None
    if q is not None and (len(q) > MAX_QUERY_CHARS or re.search("[\x00\ud800-\udfff]", q)):
        raise BadRequest("bad_filter", f"q must be text of at most {MAX_QUERY_CHARS} characters.")
    raw_page = args.get("page", "1") or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 10_000:
        raise BadRequest("bad_filter", "page must be a whole number from 1.")
    return Filters(
        list=name,
        channel=_token(args, "channel"),
        branch=_token(args, "branch"),
        tag=_token(args, "tag"),
        language=_language(args),
        day_from=day_from,
        day_to=day_to,
        q=q,
        page=int(raw_page),
    )


def like_pattern(words: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching ``words`` anywhere, literally."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def mask_cards(text: str | None) -> str | None:
    """``text`` with every 14-digit card number masked as staff must see it."""
    if not text:
        return text
    for start, end, digits in reversed(card_spans(text)):
        text = text[:start] + mask_card(digits) + text[end:]
    return text


def _latest_handoffs() -> Any:
    return (
        select(Handoff.conversation_id, func.max(Handoff.id).label("handoff_id"))
        .group_by(Handoff.conversation_id)
        .subquery()
    )


def _base(name: str, me: int) -> Select:
    """Conversations of list ``name`` with their handoff (None on ``bot``), unordered."""
    if name == "bot":
        handed = select(Handoff.id).where(Handoff.conversation_id == Conversation.id)
        return select(Conversation, null().label("no_handoff")).where(~exists(handed))
    if name == "resolved":
        latest = _latest_handoffs()
        return (
            select(Conversation, Handoff)
            .join(latest, latest.c.conversation_id == Conversation.id)
            .join(Handoff, Handoff.id == latest.c.handoff_id)
            .where(Handoff.status.in_(_CLOSED))
        )
    query = select(Conversation, Handoff).join(Handoff, Handoff.conversation_id == Conversation.id)
    if name == "waiting":
        return query.where(Handoff.status == HandoffStatus.WAITING)
    if name == "mine":
        return query.where(Handoff.status == HandoffStatus.CLAIMED, Handoff.librarian_id == me)
    return query.where(Handoff.status.in_(OPEN_STATUSES))


def _filtered(query: Select, name: str, filters: Filters) -> Select:
    if filters.channel:
        query = query.where(Conversation.channel == filters.channel)
    if filters.branch:
        query = query.where(Handoff.department == filters.branch if name != "bot" else false())
    if filters.language:
        query = query.where(Conversation.language == filters.language)
    if filters.tag:
        pattern = like_pattern(f'"{filters.tag}"')
        tagged = cast(Handoff.tags, String).like(pattern, escape="\\")
        query = query.where(tagged if name != "bot" else false())
    if filters.day_from:
        start = datetime.combine(filters.day_from, time.min, tzinfo=timezone.utc)
        query = query.where(Conversation.last_activity_at >= start)
    if filters.day_to:
        end = datetime.combine(filters.day_to + timedelta(days=1), time.min, tzinfo=timezone.utc)
        query = query.where(Conversation.last_activity_at < end)
    if filters.q:
        said = select(Message.id).where(
            Message.conversation_id == Conversation.id,
            Message.text.ilike(like_pattern(filters.q), escape="\\"),
        )
        query = query.where(exists(said))
    return query


def _ordered(query: Select, name: str) -> Select:
    if name in ("waiting", "mine", "open"):
        return query.order_by(Handoff.requested_at, Handoff.id)
    if name == "resolved":
        return query.order_by(Handoff.resolved_at.desc(), Handoff.id.desc())
    return query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())


def _count(session: Session, query: Select) -> int:
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def _question(session: Session, conversation: Conversation, before: datetime | None) -> str | None:
    """The reader's last message before ``before`` (their question), masked."""
    query = select(Message.text).where(
        Message.conversation_id == conversation.id,
        Message.sender_kind == SenderKind.READER,
        Message.text.is_not(None),
    )
    if before is not None:
        query = query.where(Message.sent_at <= before)
    text = session.execute(
        query.order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)
    ).scalar_one_or_none()
    return mask_cards(text)


def _other_open(session: Session, conversation: Conversation) -> int:
    if conversation.reader_id is None:
        return 0
    other = aliased(Conversation)
    return int(
        session.execute(
            select(func.count(Handoff.id))
            .join(other, other.id == Handoff.conversation_id)
            .where(
                other.reader_id == conversation.reader_id,
                other.id != conversation.id,
                Handoff.status.in_(OPEN_STATUSES),
            )
        ).scalar_one()
    )


def _item(session: Session, conversation: Conversation, handoff: Handoff | None) -> dict[str, Any]:
    reader = session.get(Reader, conversation.reader_id) if conversation.reader_id else None
    librarian = None
    if handoff is not None and handoff.librarian_id is not None:
        user = session.get(StaffUser, handoff.librarian_id)
        librarian = None if user is None else {"id": user.id, "name": user.display_name}
    waiting = None
    if handoff is not None and handoff.status == HandoffStatus.WAITING:
        waiting = max(0, int((now() - handoff.requested_at).total_seconds()))
    return InboxItem.view(
        conversation_id=conversation.id,
        sender_id=conversation.sender_id,
        channel=conversation.channel,
        language=conversation.language,
        state="bot" if handoff is None else handoff.status.value,
        handoff_id=None if handoff is None else handoff.id,
        reason=None if handoff is None else handoff.reason,
        department=None if handoff is None else handoff.department,
        tags=[str(t) for t in (handoff.tags or [])] if handoff is not None else [],
        requested_at=None if handoff is None else handoff.requested_at,
        waiting_seconds=waiting,
        last_activity_at=conversation.last_activity_at,
        reader=reader_brief(reader),
        librarian=librarian,
        question=_question(
            session, conversation, None if handoff is None else handoff.requested_at
        ),
        other_open=_other_open(session, conversation),
    )


def inbox_page(session: Session, me: int, filters: Filters) -> dict[str, Any]:
    """One page of the list ``filters.list`` and the count of every list, all filtered."""
    counts = {name: _count(session, _filtered(_base(name, me), name, filters)) for name in LISTS}
    query = _ordered(_filtered(_base(filters.list, me), filters.list, filters), filters.list)
    rows = session.execute(query.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)).all()
    return InboxPage.view(
        list_name=filters.list,
        page=filters.page,
        page_size=PAGE_SIZE,
        total=counts[filters.list],
        items=[_item(session, conversation, handoff) for conversation, handoff in rows],
        counts=InboxCounts.view(**counts),
    )
