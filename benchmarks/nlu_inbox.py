"""Time the studio's NLU inbox on a generated reader store (SQLite).

It reuses ``benchmarks.nightly_analysis``'s seeded generator (readers, conversations
with fallbacks, handoffs, librarian replies, feedback and one raw event per message).
It builds the stored flags once (``crm_store.nlu_inbox_flags.rebuild_flags``, what
migration 0013 and the worker's daily rebuild do), then times
:func:`crm_store.nlu_inbox.inbox_groups` as ``GET /api/studio/inbox`` runs it (the
30-day window before the generator's "now", every reason, grouped, 100 groups; one
committed transaction per request), one request that first catches up with the last
``--catch-up`` messages (what arrived since the worker's last run), and once the old
scan of every message of the window (:func:`crm_store.nlu_inbox.scan_inbox_groups`),
checking that both give the same groups::

    .venv/bin/python -m benchmarks.nlu_inbox                        # 1,000,000 messages
    .venv/bin/python -m benchmarks.nlu_inbox --messages 200000 --readers 20000
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.nightly_analysis import NOW, generate
from benchmarks.store_cli import migrated_sqlite, store_parser
from benchmarks.store_load import load_sqlite
from crm_store.db import make_engine, make_session_factory
from crm_store.models import Message
from crm_store.models.studio_inbox import NluInboxFlagState
from crm_store.nlu_inbox import InboxRules, inbox_groups, scan_inbox_groups
from crm_store.nlu_inbox_flags import rebuild_flags


def main(argv: Sequence[str] | None = None) -> None:
    """Generate, load, build the flags, and print the inbox's timings (three runs)."""
    parser = store_parser(__doc__, seed=7)
    parser.add_argument("--window-days", type=int, default=30)
    parser.add_argument("--catch-up", type=int, default=1000, help="new messages to catch up")
    args = parser.parse_args(argv)
    store = generate(args.messages, args.readers, args.span_days, args.seed)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        url = migrated_sqlite(path)
        load_sqlite(path, store)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        since = NOW - timedelta(days=args.window_days)
        rules = InboxRules(since=since)
        with sessions() as session:
            total = session.execute(select(func.count(Message.id))).scalar()
            window = session.execute(
                select(func.count(Message.id)).where(Message.sent_at >= since)
            ).scalar()
        print(f"{total} messages, {window} in the {args.window_days}-day window (SQLite)")
        started = time.perf_counter()
        with sessions.begin() as session:
            flags = rebuild_flags(session, rules)
        print(
            f"  flags built once: {flags} flagged messages in {time.perf_counter() - started:.2f} s"
        )
        fast = []
        for run in range(1, 4):
            started = time.perf_counter()
            with sessions.begin() as session:
                groups = inbox_groups(session, rules, limit=100)
            seconds = time.perf_counter() - started
            listed = sum(len(g.items) for g in groups)
            fast = [g.as_json() for g in groups]
            print(f"  run {run}: {seconds:6.2f} s, {len(groups)} groups, {listed} messages listed")
        # A request after the worker missed the last --catch-up messages (its watermark set back).
        with sessions.begin() as session:
            state = session.get(NluInboxFlagState, 1)
            assert state is not None
            state.last_message_id = max(0, int(state.last_message_id) - args.catch_up)
        started = time.perf_counter()
        with sessions.begin() as session:
            groups = inbox_groups(session, rules, limit=100)
        seconds = time.perf_counter() - started
        print(f"  a request catching up with {args.catch_up} messages: {seconds:6.2f} s")
        fast = [g.as_json() for g in groups]
        started = time.perf_counter()
        with sessions() as session:
            reference = [g.as_json() for g in scan_inbox_groups(session, rules, limit=100)]
        seconds = time.perf_counter() - started
        print(f"  old scan of the window: {seconds:6.2f} s, same groups: {fast == reference}")
        engine.dispose()


if __name__ == "__main__":
    main()
