"""Time the nightly analysis and retention on a generated store (SQLite and PostgreSQL).

The generated store has ``--readers`` readers (100,000) and ``--messages`` messages
(1,000,000) in conversations spread over ``--span-days`` days (400) before a fixed
"now" (2026-11-30 03:00 UTC), with handoffs, librarian replies, feedback, surveys,
and one raw event per message plus the fallback actions. It is bulk-loaded with
``executemany`` (SQLite) or ``COPY`` (PostgreSQL) from a seeded random generator, so
every run builds the same store, and split into channel sessions (what ingestion does
as it stores messages; the figures count them). Then it times:

- loading the sentence encoder (once per worker process; cached afterwards);
- the nightly analysis as of "now" (8 days of daily figures, churn, loyalty, and
  clustering of the newest ``RIC_CLUSTER_MAX_QUESTIONS`` = 2,000 unanswered questions
  with the packaged sentence encoder), run twice (the second run replaces the rows);
- retention (365 days: about the oldest 35 days are anonymised), run twice (the second
  finds nothing left to do);
- optionally (``--backfill N``) the daily figures of the N days before "now".

PostgreSQL gets its own database (``ric_bench``), created and dropped by the script::

    .venv/bin/python -m benchmarks.nightly_analysis --backend sqlite postgresql
    .venv/bin/python -m benchmarks.nightly_analysis --messages 100000 --readers 10000
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.store_cli import migrated_sqlite, store_parser
from benchmarks.store_load import create_pg_database, drop_pg_database, load_postgres, load_sqlite
from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from crm_store.sessions import resplit_all
from library.staffed_time import staffed_hours_from_profile
from worker.analytics.embeddings import sentence_model
from worker.analytics.run import analyse_days, run_analysis, run_retention
from worker.analytics.settings import AnalyticsSettings

NOW = datetime(2026, 11, 30, 3, tzinfo=timezone.utc)
CHANNELS = (("webchat", 0.6), ("telegram", 0.2), ("slack", 0.1), ("email", 0.1))
INTENTS = (
    "library_hours", "check_loans", "renew_loans", "place_hold", "search_catalog",
    "check_fines", "faq", "library_location", "get_library_card", "greet", "thank",
)  # fmt: skip
KNOWN = (
    "when are you open on saturday", "renew my books please", "do I have any fines",
    "I want to reserve a book", "where is the main branch", "how do I print",
)  # fmt: skip
# Unanswered questions: topics a library bot might lack, each with several phrasings.
UNANSWERED = {
    "parking": ("is there parking near the library", "where can I park my car",
                "do you have a car park", "how much is parking"),
    "3d printer": ("can I use the 3d printer", "how do I book the 3d printer",
                   "do you do 3d printing"),
    "pets": ("can I bring my dog", "are dogs allowed inside", "is the library pet friendly"),
    "lockers": ("do you have lockers for bags", "where can I leave my backpack"),
    "microfilm": ("can I read old newspapers on microfilm", "where is the microfilm reader"),
    "tax forms": ("do you have tax forms", "where can I get tax return forms"),
    "passport photos": ("can I take passport photos here", "do you have a photo booth"),
    "jobs": ("are you hiring", "how do I apply for a job at the library"),
    "language classes": ("do you run english classes", "are there language courses"),
    "notary": ("do you have a notary", "can someone witness my signature"),
}  # fmt: skip
# Readers phrase the same question in many ways; these make the texts distinct, so the
# encoder embeds about as many texts as a real night would.
OPENERS = ("", "hi, ", "hello ", "quick question: ", "sorry, ", "excuse me, ", "hey ")
FILLERS = (
    "", " please", " today", " this weekend", " at the main branch", " for my kids",
    " tomorrow", " on sunday", " near the station", " as a visitor", " again",
    " with a friend", " for a school project", " after work", " in the evening",
)  # fmt: skip
COMMENTS = (
    "Great help, thank you!", "very quick and friendly", "not helpful at all",
    "I waited too long", "fine", "the bot did not understand me", "excellent service",
)  # fmt: skip


def stamp(when: datetime) -> str:
    """A UTC time as the reader store keeps it (naive UTC text; both databases accept it)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Store:
    """Generated rows per table, in column order."""

    columns: dict[str, Sequence[str]]
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows.setdefault(table, []).append(row)


COLUMNS: dict[str, Sequence[str]] = {
    "staff_users": ("id", "username", "display_name", "role", "password_hash", "active",
                    "created_at", "presence", "capacity"),
    "readers": ("id", "display_name", "email", "card_number", "created_at", "updated_at"),
    "conversations": ("id", "sender_id", "channel", "reader_id", "status", "started_at",
                      "last_activity_at"),
    "messages": ("id", "event_key", "conversation_id", "direction", "sender_kind",
                 "librarian_id", "text", "intent", "confidence", "channel", "sent_at",
                 "ingested_at", "payload"),
    "raw_events": ("id", "event_key", "sender_id", "type_name", "timestamp", "body", "source",
                   "ingested_at"),
    "handoffs": ("id", "conversation_id", "reason", "status", "librarian_id", "requested_at",
                 "claimed_at", "first_response_at", "resolved_at"),
    "feedback": ("id", "conversation_id", "reader_id", "librarian_id", "rating", "comment",
                 "source", "created_at"),
    "surveys": ("id", "conversation_id", "resolved_by", "resolved_at", "scheduled_at", "status",
                "sent_at", "attempts", "created_at"),
}  # fmt: skip


def _channel(rng: random.Random) -> str:
    pick = rng.random()
    for name, share in CHANNELS:
        if pick < share:
            return name
        pick -= share
    return CHANNELS[0][0]


class _Builder:
    """Appends the rows of one conversation after another, numbering them."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng
        self.ids: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self.conversation = 0
        self.channel = "webchat"
        self.sender = ""
        self.librarian = 1

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def event(self, type_name: str, at: datetime, body: dict[str, Any], key: str) -> None:
        self.store.add(
            "raw_events",
            (self.next_id("raw_events"), key, self.sender, type_name, at.timestamp(),
             json.dumps({"event": type_name, "timestamp": at.timestamp(), **body}), "bench",
             stamp(at)),
        )  # fmt: skip

    def message(self, kind: str, text: str, intent: str | None, at: datetime) -> None:
        number = self.next_id("messages")
        inbound = kind == "reader"
        self.store.add(
            "messages",
            (number, f"m{number}", self.conversation, "in" if inbound else "out", kind,
             self.librarian if kind == "librarian" else None, text, intent,
             0.9 if inbound else None, self.channel, stamp(at), stamp(at), None),
        )  # fmt: skip
        self.event("user" if inbound else "bot", at, {"text": text}, f"m{number}")

    def handoff(self, requested: datetime) -> datetime | None:
        """A handoff; returns when it was resolved, if it was."""
        rng = self.rng
        first = requested + timedelta(seconds=rng.randint(30, 3600))
        resolved = first + timedelta(seconds=rng.randint(300, 1800))
        roll = rng.random()
        status = "resolved" if roll < 0.8 else "abandoned" if roll < 0.9 else "ticketed"
        answered = status == "resolved"
        self.store.add(
            "handoffs",
            (self.next_id("handoffs"), self.conversation, "reader asked", status,
             self.librarian if answered else None, stamp(requested),
             stamp(first) if answered else None, stamp(first) if answered else None,
             stamp(resolved) if answered else None),
        )  # fmt: skip
        if not answered:
            return None
        self.message("librarian", "Hello, I can help with that.", None, first)
        self.message("librarian", "Anything else?", None, first + timedelta(seconds=60))
        if rng.random() < 0.6:
            sent = resolved + timedelta(hours=1)
            self.store.add(
                "surveys",
                (self.next_id("surveys"), self.conversation, "librarian", stamp(resolved),
                 stamp(sent), "answered" if rng.random() < 0.4 else "sent", stamp(sent), 1,
                 stamp(resolved)),
            )  # fmt: skip
        return resolved

    def conversation_rows(self, reader: int, began: datetime) -> None:
        """One conversation of a reader: 2-6 turns, maybe a handoff, maybe feedback."""
        rng = self.rng
        self.conversation = self.next_id("conversations")
        self.channel = _channel(rng)
        self.sender = f"bench-{self.conversation}"
        self.librarian = rng.randint(1, LIBRARIANS)
        when = began
        turns = rng.randint(2, 6)
        handoff_at = rng.randint(1, turns) if rng.random() < 0.12 else 0
        topics = list(UNANSWERED.values())
        for turn in range(1, turns + 1):
            roll = rng.random()
            if roll < 0.07:
                phrase = rng.choice(rng.choice(topics))
                text = f"{rng.choice(OPENERS)}{phrase}{rng.choice(FILLERS)}{rng.choice(FILLERS)}"
                intent = "nlu_fallback"
            else:
                text, intent = rng.choice(KNOWN), rng.choice(INTENTS)
            self.message("reader", text, intent, when)
            if 0.07 <= roll < 0.10:  # the policy fell back although NLU had a guess
                at = when + timedelta(seconds=1)
                key = f"a{self.ids['raw_events'] + 1}"
                self.event("action", at, {"name": "action_default_fallback"}, key)
            when += timedelta(seconds=rng.randint(1, 5))
            self.message("bot", "Here is what I found.", None, when)
            when += timedelta(seconds=rng.randint(10, 120))
            if turn == handoff_at:
                when = self.handoff(when) or when
        if rng.random() < 0.08:
            self.store.add(
                "feedback",
                (self.next_id("feedback"), self.conversation, reader, None,
                 rng.choice((1, 2, 3, 4, 4, 5, 5, 5)),
                 rng.choice(COMMENTS) if rng.random() < 0.5 else None, "give_feedback",
                 stamp(when + timedelta(minutes=5))),
            )  # fmt: skip
        self.store.add(
            "conversations",
            (self.conversation, self.sender, self.channel, reader, "resolved", stamp(began),
             stamp(when)),
        )  # fmt: skip


LIBRARIANS = 8


def generate(messages: int, readers: int, span_days: int, seed: int) -> Store:
    """Build the rows of a store with about ``messages`` messages and ``readers`` readers."""
    rng = random.Random(seed)
    store = Store(COLUMNS)
    start = NOW - timedelta(days=span_days)
    for n in range(1, LIBRARIANS + 1):
        store.add(
            "staff_users",
            (n, f"lib{n}", f"Librarian {n}", "librarian", "x", True, stamp(start), "away", 3),
        )
    for n in range(1, readers + 1):
        created = stamp(start)
        store.add(
            "readers", (n, f"Reader {n}", f"reader{n}@example.org", f"{n:014d}", created, created)
        )
    builder = _Builder(store, rng)
    while builder.ids["messages"] < messages:
        # every reader has one conversation; then readers come back at random
        number = builder.ids["conversations"] + 1
        reader = number if number <= readers else rng.randint(1, readers)
        began = start + timedelta(seconds=rng.uniform(0, span_days * 86400 - 7200))
        builder.conversation_rows(reader, began)
    return store


def generated(args: argparse.Namespace) -> tuple[Store, dict[str, int]]:
    """The store ``store_parser``'s options ask for and its rows per table (printed, timed)."""
    started = time.perf_counter()
    store = generate(args.messages, args.readers, args.span_days, args.seed)
    counts = {table: len(rows) for table, rows in store.rows.items()}
    print(f"generated in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
    return store, counts


def _timed(label: str, work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"  {label:<42} {seconds:8.2f} s", flush=True)
    return seconds, result


def split_sessions(sessions: sessionmaker[Session]) -> int:
    """Split every conversation into channel sessions; returns how many."""
    with sessions.begin() as session:
        made = resplit_all(session)
    with sessions.begin() as session:  # the other tables were analysed after the load
        session.execute(text("ANALYZE conversation_sessions"))
    return made


def bench(backend: str, store: Store, workdir: Path, backfill: int) -> dict[str, Any]:
    """Load the store into one backend and time the jobs; returns the figures."""
    print(f"\n[{backend}]", flush=True)
    if backend == "sqlite":
        url = migrated_sqlite(workdir / "bench.db")
        load_seconds, _ = _timed("bulk load", lambda: load_sqlite(workdir / "bench.db", store))
    else:
        url = create_pg_database()
        upgrade(url)
        engine = make_engine(url)
        load_seconds, _ = _timed("bulk load (COPY)", lambda: load_postgres(engine, store))
        engine.dispose()
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    # Ingestion opens the channel sessions the figures count; the bulk load bypasses it.
    figures_split = _timed(
        "channel sessions (resplit_all, as rollups --resplit)", lambda: split_sessions(sessions)
    )
    hours = staffed_hours_from_profile()
    settings = AnalyticsSettings()
    figures: dict[str, Any] = {"backend": backend, "load_s": load_seconds}
    figures["sessions_s"], figures["sessions"] = figures_split
    figures["encoder_load_s"], _ = _timed(
        "sentence encoder load (once per process)", sentence_model
    )
    try:
        figures["analysis_s"], first = _timed(
            "nightly analysis (first run)", lambda: run_analysis(sessions, NOW, hours, settings)
        )
        figures["analysis_parts_s"] = first["seconds"]
        figures["analysis_rerun_s"], _ = _timed(
            "nightly analysis (re-run, same day)",
            lambda: run_analysis(sessions, NOW, hours, settings),
        )
        figures["summary"] = {k: v for k, v in first.items() if k not in {"days", "seconds"}}
        print(f"    parts: {first['seconds']}", flush=True)
        print(f"    {figures['summary']}", flush=True)
        figures["retention_s"], kept = _timed(
            "retention 365 days (first run)", lambda: run_retention(sessions, NOW, 365)
        )
        figures["retention_counts"] = kept["counts"]
        print(f"    {kept['counts']}", flush=True)
        figures["retention_rerun_s"], _ = _timed(
            "retention (re-run, nothing left)", lambda: run_retention(sessions, NOW, 365)
        )
        if backfill:
            days = [NOW.date() - timedelta(days=k) for k in range(backfill, 0, -1)]
            figures["backfill_days"] = backfill
            figures["backfill_s"], _ = _timed(
                f"daily figures backfill ({backfill} days)",
                lambda: analyse_days(sessions, days, NOW, hours, settings),
            )
    finally:
        engine.dispose()
        if backend == "postgresql":
            drop_pg_database()
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Generate the store once, then benchmark each backend."""
    parser = store_parser(__doc__)
    parser.add_argument("--backfill", type=int, default=0, help="also time N days of figures")
    parser.add_argument(
        "--backend", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    store, counts = generated(args)
    results = []
    with tempfile.TemporaryDirectory(prefix="ric-bench-") as workdir:
        for backend in args.backend:
            results.append(bench(backend, store, Path(workdir), args.backfill))
    print("\n" + json.dumps({"counts": counts, "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
