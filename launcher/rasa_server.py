"""``python -m launcher.rasa_server run …``: Rasa's command line, with the API token kept off it.

Rasa 3.6 takes its HTTP API token only as ``--auth-token``. A command-line argument is
world-readable (``ps``, ``/proc/<pid>/cmdline``), so the launcher starts Rasa through
this module instead: it reads the token from ``RASA_AUTH_TOKEN`` (or from the file
named by ``RASA_AUTH_TOKEN_FILE``), adds ``--auth-token=<token>`` to ``sys.argv`` in
this process only, and calls Rasa's own entry point. Changing ``sys.argv`` does not
change what the kernel shows as the process's command line. The environment of a
process is readable only by its owner (and root).

Everything else is Rasa's: the same arguments, the same logging, the same server.
Before Rasa's entry point runs, :func:`main` installs the Rasa and Sanic patches this
project needs (:func:`rasa_plugins.install`: :mod:`rasa_plugins.paused_fast_path`,
:mod:`rasa_plugins.sanic_compat`), explicitly rather than as a side effect of an import.
Rasa and the plug-ins are imported only there, so reading the token stays cheap.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ric_config import RasaConfig

TOKEN_VARIABLE = "RASA_AUTH_TOKEN"  # noqa: S105 - a variable name
TOKEN_FILE_VARIABLE = "RASA_AUTH_TOKEN_FILE"  # noqa: S105 - a variable name


class MissingTokenError(RuntimeError):
    """Rasa's API would start without a token, or the token was given on the command line."""


def read_token(environ: dict[str, str] | None = None) -> str:
    """The Rasa API token, from ``RASA_AUTH_TOKEN`` or the file ``RASA_AUTH_TOKEN_FILE`` names.

    Args:
        environ: The environment to read (``os.environ`` when omitted).

    Returns:
        The token, without surrounding whitespace.

    Raises:
        MissingTokenError: Neither variable gives a non-empty token.
    """
    config = RasaConfig.load(environ)
    token = config.rasa_token.get_secret_value().strip()
    if not token and config.rasa_token_file:
        token = Path(config.rasa_token_file).read_text().strip()
    if not token:
        raise MissingTokenError(
            f"{TOKEN_VARIABLE} (or {TOKEN_FILE_VARIABLE}) is not set; "
            "the Rasa HTTP API never runs without a token"
        )
    return token


def rasa_argv(args: list[str], token: str) -> list[str]:
    """Rasa's argument list: ``args`` plus the token, as one ``--auth-token=…`` argument.

    One argument, so that a token starting with ``-`` is not read as an option.

    Raises:
        MissingTokenError: ``args`` already carries a token, which would be visible.
    """
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in args):
        raise MissingTokenError(
            "pass the token in RASA_AUTH_TOKEN, not as --auth-token on the command line"
        )
    return [*args, f"--auth-token={token}"]


def main(args: list[str] | None = None) -> None:
    """Run Rasa's command line in this process with the token from the environment."""
    try:
        argv = rasa_argv(sys.argv[1:] if args is None else args, read_token())
    except (MissingTokenError, OSError) as error:
        raise SystemExit(f"launcher.rasa_server: {error}") from None
    sys.argv = ["rasa", *argv]
    import rasa.__main__ as rasa_entry
    import rasa.server as rasa_http
    import rasa.utils.io as rasa_io

    from messaging.logs import configure_logging
    from rasa_plugins import install as install_rasa_plugins

    install_rasa_plugins()
    rasa_colored = rasa_io.configure_colored_logging

    def configure(loglevel: Any) -> None:
        # Rasa installs coloredlogs on the root logger last thing before it runs the
        # command; the project's format (RIC_LOG_FORMAT) then replaces its format.
        rasa_colored(loglevel)
        configure_logging("rasa")

    rasa_io.configure_colored_logging = configure
    rasa_create_app = rasa_http.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        # Making the Sanic app gives Sanic's loggers handlers again: hand them back.
        app = rasa_create_app(*args, **kwargs)
        configure_logging("rasa")
        return app

    rasa_http.create_app = create_app
    rasa_entry.main()


if __name__ == "__main__":
    main()
