"""``./ric nlu inbox``: the admin studio's NLU inbox in a terminal (issue 16).

It prints what ``/studio/inbox`` shows: the reader messages the bot handled poorly,
grouped, with their reasons, channel, date, predicted intent and confidence (texts
masked, no reader identity). ``--json`` prints the same as ``GET /api/studio/inbox``'s
groups, for scripts.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy.exc import OperationalError, ProgrammingError

from crm_store import clock
from crm_store.db import make_engine, make_session_factory
from crm_store.nlu_inbox import InboxRules, inbox_groups
from launcher.settings import load_settings
from ric_config.studio_inbox import NluInboxConfig

__all__ = ["add_inbox_command", "command_inbox"]


def _confidence(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def command_inbox(args: argparse.Namespace) -> int:
    """Print the NLU inbox (``--json`` for JSON); exit 1 when the store cannot be read."""
    config = NluInboxConfig() if args.days is None else NluInboxConfig(inbox_window_days=args.days)
    rules = InboxRules.from_config(config, clock.now())
    engine = make_engine(load_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            groups = inbox_groups(session, rules, limit=args.limit)
    except (OperationalError, ProgrammingError) as error:
        print(f"cannot read the reader store ({error.orig}); run ./ric migrate first")
        return 1
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({"groups": [g.as_json() for g in groups]}, indent=2))
        return 0
    total = sum(len(g.items) for g in groups)
    days = config.inbox_window_days
    print(f"NLU inbox: {total} messages in {len(groups)} groups (last {days} days)")
    for group in groups:
        print(f"\n[{len(group.items)}] {group.label}  ({', '.join(group.reasons)})")
        for item in group.items:
            when = item.sent_at.strftime("%Y-%m-%d %H:%M")
            guess = f"{item.predicted_intent or '?'} {_confidence(item.confidence)}"
            print(f"  #{item.message_id} {when} {item.channel:<9} {guess:<28} {item.text}")
    return 0


def add_inbox_command(nlu_commands: Any) -> None:
    """Add ``inbox`` to the ``./ric nlu`` sub-commands."""
    inbox = nlu_commands.add_parser(
        "inbox", help="reader messages the bot handled poorly, grouped (the studio's NLU inbox)"
    )
    inbox.add_argument("--limit", type=int, default=50, help="groups to show (default 50)")
    inbox.add_argument("--days", type=int, default=None, help="days to look back")
    inbox.add_argument("--json", action="store_true", help="print JSON")
    inbox.set_defaults(func=command_inbox)
