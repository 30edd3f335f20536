"""Run the console: ``python -m handoff_console``."""

from __future__ import annotations

import sys

from handoff_console.app import create_app
from handoff_console.settings import ConsoleSettings
from messaging.logs import configure_logging


def main() -> None:
    """Serve the console on the configured host and port."""
    try:
        settings = ConsoleSettings.from_env()
    except ValueError as error:
        sys.exit(f"handoff_console: bad setting: {error}")
    app = create_app(settings)
    configure_logging("console")  # after the app: Sanic's loggers exist now
    app.run(host=settings.host, port=settings.port, access_log=False)


if __name__ == "__main__":
    main()
