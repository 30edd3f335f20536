"""``./ric reader export|erase <card or address>``: a reader's rights of access and erasure.

``export`` writes everything held about one reader as JSON (to ``--output``, created
readable by its owner only, or to standard output); ``erase`` removes or anonymises
the reader everywhere, Rasa's tracker store included, after asking for confirmation
(``--yes`` skips the question). Both are audited (``crm_store.data_rights``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm_store.data_rights import (
    DataRightsError,
    describe_key,
    erase_reader,
    export_reader,
    find_reader,
)
from crm_store.data_rights.tracker import existing_tracker
from crm_store.db import make_engine, make_session_factory
from launcher.settings import load_settings

__all__ = ["add_reader_commands", "command_reader_erase", "command_reader_export"]


def _stores() -> tuple[sessionmaker[Session], Engine | None]:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    return make_session_factory(engine), existing_tracker(settings.tracker_database_url)


def command_reader_export(args: argparse.Namespace) -> int:
    """Write everything held about one reader as JSON; audited."""
    sessions, tracker = _stores()
    try:
        with sessions.begin() as session:
            reader = find_reader(session, args.reader)
            document = export_reader(session, reader, tracker, staff_id=None, via="cli")
    except DataRightsError as error:
        print(f"./ric reader export: {error}", file=sys.stderr)
        return 1
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if args.output is None:
        print(text)
        return 0
    path = Path(args.output)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    conversations = len(document["conversations"])
    print(
        f"exported reader {document['reader']['id']} ({conversations} conversations) to {path}",
        file=sys.stderr,
    )
    return 0


def _ask(prompt: str) -> str:
    """Ask on standard error, so standard output holds only the result."""
    print(prompt, end="", file=sys.stderr, flush=True)
    return input()


def command_reader_erase(args: argparse.Namespace, ask: Callable[[str], str] = _ask) -> int:
    """Erase one reader everywhere after confirmation; audited and irreversible."""
    sessions, tracker = _stores()
    shown = describe_key(args.reader)
    try:
        with sessions.begin() as session:
            reader = find_reader(session, args.reader)
            if not args.yes:
                print(
                    f"This erases reader {reader.id} ({shown}) everywhere: profile, identities, "
                    "transcripts, tickets, consents, email threads and Rasa's tracker store. "
                    "It cannot be undone.",
                    file=sys.stderr,
                )
                try:
                    answer = ask("Type 'erase' to go on: ")
                except EOFError:
                    answer = ""
                if answer.strip().lower() != "erase":
                    print("Nothing was erased.", file=sys.stderr)
                    return 1
            result = erase_reader(session, reader, tracker, staff_id=None, via="cli")
    except DataRightsError as error:
        print(f"./ric reader erase: {error}", file=sys.stderr)
        return 1
    changed = ", ".join(f"{kind} {n}" for kind, n in sorted(result.counts.items()) if n)
    print(f"erased reader {result.reader_id} ({shown}): {changed}")
    return 0


def add_reader_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``reader export`` and ``reader erase`` to ``./ric``'s commands."""
    reader = commands.add_parser("reader", help="a reader's data: export or erase (audited)")
    actions = reader.add_subparsers(dest="reader_command", required=True)
    export = actions.add_parser("export", help="write everything held about a reader as JSON")
    export.add_argument("reader", help="card number, email address, channel:id or reader:<id>")
    export.add_argument("-o", "--output", help="file to write (mode 0600); default: stdout")
    export.set_defaults(func=command_reader_export)
    erase = actions.add_parser("erase", help="erase a reader everywhere (irreversible)")
    erase.add_argument("reader", help="card number, email address, channel:id or reader:<id>")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(func=command_reader_erase)
