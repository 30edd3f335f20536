"""Staff account administration from the command line.

``python -m handoff_console.admin create-admin --username alex --display-name "Alex Kim"``
creates the first admin. The password comes from ``RIC_ADMIN_PASSWORD`` or is asked
for twice without echo; it is never a command-line argument (those end up in shell
history and ``ps``). The store is ``RIC_DATABASE_URL``. Other commands:
``create-user --role librarian|admin|manager``, ``create-token --username x --name y``,
``list-login-throttles`` and ``clear-login-throttle --username x [--address a]`` (lift
a login throttle; audited as ``login_throttle.clear``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.db import make_engine, make_session_factory
from crm_store.models import StaffUser
from handoff_console import login_throttle
from handoff_console.accounts import ROLES, AccountError, create_staff, issue_api_token
from ric_config import ConsoleConfig

PASSWORD_ENV = "RIC_ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a password
PROFILE_OPTIONS = ("display_name", "email", "capacity", "department")
"""The account options of ``create-admin`` and ``create-user`` passed on to ``create_staff``."""


class CliError(Exception):
    """A command cannot run; the message is shown to the operator."""


def _read_password() -> str:
    from_env = ConsoleConfig().admin_password.get_secret_value()
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise CliError(f"no password: set {PASSWORD_ENV} or run in a terminal to be prompted")
    first = getpass.getpass("Password (at least 10 characters): ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise CliError("the two passwords differ")
    return first


@contextmanager
def _store_session() -> Iterator[Session]:
    """One transaction on the reader store; the engine is closed afterwards."""
    engine = make_engine()
    try:
        with make_session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def _create(args: argparse.Namespace, role: str) -> int:
    password = _read_password()
    profile = {option: getattr(args, option) for option in PROFILE_OPTIONS}
    with _store_session() as session:
        user = create_staff(
            session, username=args.username, password=password, role=role, **profile
        )
        user_id = user.id
    print(f"Created {role} {args.username!r} (id {user_id}).")
    return 0


def command_create_admin(args: argparse.Namespace) -> int:
    """Create an admin account."""
    return _create(args, "admin")


def command_create_user(args: argparse.Namespace) -> int:
    """Create an account with the given role."""
    return _create(args, args.role)


def command_create_token(args: argparse.Namespace) -> int:
    """Issue an API token for an existing account and print it once."""
    with _store_session() as session:
        user_id = session.execute(
            select(StaffUser.id).where(StaffUser.username == args.username)
        ).scalar_one_or_none()
        if user_id is None:
            raise CliError(f"no staff account named {args.username!r}")
        token = issue_api_token(session, int(user_id), args.name)
    print(f"API token {args.name!r} for {args.username!r} (shown once; store it now):")
    print(token)
    return 0


def command_list_login_throttles(_args: argparse.Namespace) -> int:
    """Print every (user name, address) pair with failed logins that count."""
    with _store_session() as session:
        found = login_throttle.throttles(session)
    if not found:
        print("No login throttles.")
        return 0
    now = clock.now()
    print(f"{'user name':<24} {'address':<40} {'failures':>8} {'wait (s)':>8}")
    for throttle in found:
        print(
            f"{throttle.username:<24} {throttle.address:<40} {throttle.failures:>8} "
            f"{throttle.retry_after_seconds(now):>8}"
        )
    return 0


def command_clear_login_throttle(args: argparse.Namespace) -> int:
    """Lift a user name's login throttle, from one address or all; audited."""
    with _store_session() as session:
        removed, audit_id = login_throttle.clear(
            session, args.username, args.address, actor_id=None, via="cli"
        )
    where = f"address {args.address}" if args.address is not None else "every address"
    print(
        f"Cleared the login throttle of {login_throttle.normalise_username(args.username)!r} "
        f"from {where}: {removed} failed attempts removed (audit entry {audit_id})."
    )
    return 0


def _account_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True, help="3-40 of a-z 0-9 . _ -")
    parser.add_argument("--display-name", help="the name colleagues and readers see")
    parser.add_argument("--email")
    parser.add_argument("--capacity", type=int, default=3, help="chats at once (default 3)")
    parser.add_argument("--department")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m handoff_console.admin``."""
    parser = argparse.ArgumentParser(
        prog="python -m handoff_console.admin",
        description=f"Manage console staff accounts. Passwords come from {PASSWORD_ENV} "
        "or a prompt, never from arguments.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create an admin account")
    _account_arguments(admin)
    admin.set_defaults(func=command_create_admin)
    user = commands.add_parser("create-user", help="create a staff account with a role")
    _account_arguments(user)
    user.add_argument("--role", choices=ROLES, default="librarian")
    user.set_defaults(func=command_create_user)
    token = commands.add_parser("create-token", help="issue an API token; printed once")
    token.add_argument("--username", required=True)
    token.add_argument("--name", required=True, help="what the token is for")
    token.set_defaults(func=command_create_token)
    listing = commands.add_parser(
        "list-login-throttles", help="list user names and addresses with failed logins"
    )
    listing.set_defaults(func=command_list_login_throttles)
    clearing = commands.add_parser("clear-login-throttle", help="lift a login throttle (audited)")
    clearing.add_argument("--username", required=True)
    clearing.add_argument("--address", help="only this client address (default: every address)")
    clearing.set_defaults(func=command_clear_login_throttle)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 refused, 2 usage)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (AccountError, CliError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(
            f"error: the reader store is not usable ({type(error).__name__}); "
            "run ./ric migrate and check RIC_DATABASE_URL",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("\ncancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
