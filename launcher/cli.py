"""``./ric`` commands: ``up`` runs the whole system, ``test`` runs every check.

The bash wrapper ``./ric`` first makes sure ``.venv`` matches ``requirements.lock``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from launcher.nlu_inbox import add_inbox_command
from launcher.nlu_models import add_model_commands
from launcher.reader_rights import add_reader_commands
from launcher.settings import ROOT, Settings, load_settings
from ric_config import LauncherConfig

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger("launcher")


def prepare(settings: Settings) -> None:
    """Migrate the reader store and seed the demo data."""
    from crm_store.db import make_engine, make_session_factory
    from crm_store.migrate import upgrade
    from crm_store.seed import seed_demo
    from handoff_console.accounts import seed_demo_staff

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_session_factory(engine).begin() as session:
        created = seed_demo(session)
        staff = seed_demo_staff(session)
    history = _seed_demo_history(make_session_factory(engine))
    engine.dispose()
    print(
        f"  ✓ reader store migrated ({_redact(settings.database_url)}); "
        f"{created} demo readers added"
    )
    if history:
        print(f"  ✓ demo history: {history}")
    _remember_demo_staff(settings, staff)


def _seed_demo_history(sessions: sessionmaker[Session]) -> str:
    """Seed the demo chat history when ``RIC_DEMO_HISTORY`` is on; what was done, or ""."""
    from crm_store import clock
    from launcher.demo_history import seed_and_refresh
    from ric_config.demo import DemoConfig

    if not DemoConfig().demo_history:
        return ""
    history, _ = seed_and_refresh(sessions, clock.now())
    if history.skipped is not None:
        return f"not seeded ({history.skipped})"
    return (
        f"{history.conversations} conversations, {history.events} events, "
        f"{history.handoffs} handoffs, {history.ratings} ratings, {history.tickets} tickets"
    )


def _remember_demo_staff(settings: Settings, staff: list[tuple[str, str, str]]) -> None:
    """Keep new demo passwords in ``var/secrets/demo-staff.txt`` (0600) to show them again."""
    path = settings.var_dir / "secrets" / "demo-staff.txt"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    known: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, rest = line.partition(" ")
            known[name] = rest
    for username, role, password in staff:
        if password != "(unchanged)":  # noqa: S105 - a marker, not a password
            known[username] = f"{role} {password}"
    path.touch(mode=0o600)
    path.write_text("".join(f"{name} {rest}\n" for name, rest in sorted(known.items())))
    settings_lines = [
        f"{name} ({rest.split()[0]}): {rest.split()[1]}"
        for name, rest in sorted(known.items())
        if " " in rest
    ]
    if settings_lines:
        print("  ✓ demo console accounts (user (role): password), kept in " + str(path) + ":")
        for line in settings_lines:
            print(f"      {line}")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def command_up(_: argparse.Namespace) -> int:
    """Train if needed, migrate, seed, start everything, print the URLs, wait for Ctrl-C."""
    from launcher.services import all_services
    from launcher.supervisor import Supervisor
    from launcher.training import ensure_model, startup_model, training_hash

    settings = load_settings()
    print("Reader Interaction Center: starting")
    print(
        f"  … checking the model (data version {training_hash()}); "
        "a first train takes a minute or two"
    )
    model = ensure_model(log_path=settings.log_dir / "train.log")
    model, which = startup_model(model, training_hash())
    print(f"  ✓ model ready: {which} ({model})")
    prepare(settings)
    supervisor = Supervisor(all_services(settings, model))

    def _stop(signum: int, _frame: FrameType | None) -> None:
        print("\nStopping…")
        supervisor.stop()
        print("Stopped.")
        sys.exit(0)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    supervisor.start_all()
    try:
        supervisor.wait_ready(timeout=LauncherConfig().start_timeout)
    except (TimeoutError, RuntimeError) as error:
        print(f"  ✗ {error}", file=sys.stderr)
        supervisor.stop()
        return 1
    print(
        "\nReady. Open:\n"
        f"  Demo library page with the chat widget: {settings.console_url}/demo\n"
        f"  Console (sign in, then the queue):      {settings.console_url}/login\n"
        f"  Service status:                         {settings.console_url}/\n"
        f"  Rasa HTTP API (token in {settings.var_dir / 'secrets' / 'rasa_token'} "
        f"unless RASA_AUTH_TOKEN is set): {settings.rasa_public_url}\n"
        f"Logs: {settings.log_dir}/<process>.log. Press Ctrl-C to stop everything."
    )
    supervisor.watch()
    return 0


def _run(step: str, argv: list[str]) -> None:
    print(f"==> {step}: {' '.join(argv)}", flush=True)
    subprocess.run(argv, cwd=ROOT, check=True)


def command_test(args: argparse.Namespace) -> int:
    """Lint, type-check, check the import contract and run the whole test suite."""
    python = sys.executable
    try:
        _run("system packages for tests", ["bash", str(ROOT / "scripts" / "system-deps.sh")])
        _run("ruff", [python, "-m", "ruff", "check", "."])
        _run("ruff format", [python, "-m", "ruff", "format", "--check", "."])
        _run("mypy", [python, "-m", "mypy"])
        _run("import contract", [str(Path(python).parent / "lint-imports")])
        _run("pytest", [python, "-m", "pytest", *args.pytest_args])
    except subprocess.CalledProcessError as error:
        print(f"FAILED: {' '.join(map(str, error.cmd))} (exit {error.returncode})", file=sys.stderr)
        return 1
    return 0


def command_train(_: argparse.Namespace) -> int:
    """Train (or reuse) the model and print its path."""
    from launcher.training import ensure_model

    print(ensure_model())
    return 0


def command_migrate(_: argparse.Namespace) -> int:
    """Migrate the reader store and seed the demo data."""
    prepare(load_settings())
    return 0


def command_catchup(_: argparse.Namespace) -> int:
    """Ingest into the reader store whatever the tracker store has that it lacks."""
    from crm_store.catchup import catch_up
    from crm_store.db import make_engine, make_session_factory

    settings = load_settings()
    result = catch_up(
        make_engine(settings.tracker_database_url),
        make_session_factory(make_engine(settings.database_url)),
    )
    print(f"read {result.rows_read} tracker rows, ingested {result.events_ingested} new events")
    return 0


def command_create_admin(args: argparse.Namespace) -> int:
    """Create a console admin: ``python -m handoff_console.admin create-admin ...``."""
    argv = [sys.executable, "-m", "handoff_console.admin", "create-admin", *args.admin_args]
    return subprocess.run(argv, cwd=ROOT, check=False).returncode


def _print_help(parser: argparse.ArgumentParser) -> int:
    """Print a command group's help (it was given no sub-command); exit status 2."""
    parser.print_help()
    return 2


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run a command."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="./ric", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "up", help="install, train, migrate, seed and start everything"
    ).set_defaults(func=command_up)
    test = commands.add_parser(
        "test", help="ruff, mypy, the import contract and the full pytest suite"
    )
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments")
    test.set_defaults(func=command_test)
    commands.add_parser("train", help="train the model if the data changed").set_defaults(
        func=command_train
    )
    commands.add_parser("migrate", help="migrate the reader store and seed demo data").set_defaults(
        func=command_migrate
    )
    commands.add_parser("catchup", help="ingest missed events from the tracker store").set_defaults(
        func=command_catchup
    )
    # The admin studio's NLU tools (issue 16): `nlu inbox`; `nlu train` and `nlu activate`
    # join the same group.
    nlu = commands.add_parser("nlu", help="the admin studio's NLU tools (inbox, train, activate)")
    nlu.set_defaults(func=lambda _args: _print_help(nlu))
    nlu_commands = nlu.add_subparsers(dest="nlu_command")
    add_inbox_command(nlu_commands)
    add_model_commands(nlu_commands)
    add_reader_commands(commands)
    commands.add_parser(
        "create-admin",
        add_help=False,  # --help goes through to handoff_console.admin
        help="create a console admin (password from RIC_ADMIN_PASSWORD or a prompt)",
    ).set_defaults(func=command_create_admin)
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "func", None) is command_create_admin:
        args.admin_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))
