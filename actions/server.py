"""``python -m actions.server``: rasa-sdk's action server, on loopback, behind a shared token.

rasa-sdk's own server (``python -m rasa_sdk``) listens on every interface and runs any
action for anyone who can reach it, with whatever tracker they send, so a forged
tracker (``pin_check: verified`` and any ``patron_id``) reads any reader's account.
This module serves the same Sanic app (``rasa_sdk.endpoint.create_app``) with three
differences:

- it binds to ``RIC_ACTIONS_HOST``, ``127.0.0.1`` by default;
- every route except ``GET /health`` needs the token ``RIC_ACTIONS_TOKEN``, which Rasa
  sends with each call (``token`` of ``action_endpoint`` in ``endpoints.yml``, sent as
  the query parameter ``?token=``) or any client may send as
  ``Authorization: Bearer <token>``; anything else gets 401;
- routing errors (unknown path, wrong method) get their own 4xx status rather than
  rasa-sdk's catch-all 500, which echoes the request body.

It refuses to start without a token. The token is never logged, and the access log
(whose lines would carry ``?token=``) is off.
"""

from __future__ import annotations

import argparse
import hmac
import logging
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import utils as sdk_utils
from rasa_sdk.endpoint import create_app as create_sdk_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from messaging.logs import configure_logging, set_conversation
from ric_config import ActionsConfig, SettingsError

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "RIC_ACTIONS_TOKEN"  # noqa: S105 - a variable name
HOST_VARIABLE = "RIC_ACTIONS_HOST"
PORT_VARIABLE = "RIC_ACTIONS_PORT"
TOKEN_PARAMETER = "token"  # noqa: S105 - the name of a query parameter
OPEN_PATHS = frozenset({"/health"})
"""Paths answered without the token (``GET``/``HEAD`` only); they reveal nothing."""


class ActionServerConfigError(ValueError):
    """A setting of the action server is missing or wrong."""


@dataclass(frozen=True)
class ActionServerSettings:
    """Where the action server listens and the token it requires.

    Read once from the environment by :meth:`from_env`; constructor arguments override it.
    """

    token: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 5055
    actions_package: str = "actions"

    def __post_init__(self) -> None:
        """Refuse settings that would open the server."""
        if not self.token.strip():
            raise ActionServerConfigError(
                f"{TOKEN_VARIABLE} is not set; the action server never runs without a token"
            )
        if not 0 < self.port < 65536:
            raise ActionServerConfigError(f"{PORT_VARIABLE} must be a TCP port, not {self.port}")

    @classmethod
    def from_env(cls, **overrides: Any) -> ActionServerSettings:
        """Build the settings from ``RIC_ACTIONS_*`` variables, then apply ``overrides``.

        Raises:
            ActionServerConfigError: A variable is missing or malformed.
        """
        try:
            config = ActionsConfig()
        except SettingsError as error:
            raise ActionServerConfigError(str(error)) from None
        values: dict[str, Any] = {
            "token": config.actions_token.get_secret_value(),
            "host": config.actions_host,
            "port": config.actions_port,
        }
        values.update(overrides)
        return cls(**values)


def presented_token(request: Request) -> str | None:
    """The token a request carries: ``Authorization: Bearer …``, else ``?token=…``."""
    authorization = request.headers.get("authorization") or ""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    value = request.args.get(TOKEN_PARAMETER)
    return value if isinstance(value, str) else None


def token_matches(presented: str | None, expected: str) -> bool:
    """Compare in constant time; ``None`` (no token) never matches."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def _unauthorized() -> HTTPResponse:
    return response.json(
        {"error": "unauthorized: this action server needs its token"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="actions"'},
    )


def create_app(settings: ActionServerSettings) -> Sanic:
    """rasa-sdk's app for ``settings.actions_package``, with the token required.

    Args:
        settings: The token (and package of actions) to serve with.

    Returns:
        The Sanic app; :func:`run` serves it.
    """
    # No CORS: browsers have no business here, only the Rasa server does.
    app = create_sdk_app(settings.actions_package, cors_origins="")

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        # Sanic serves a keep-alive connection's requests in one task: forget the last
        # request's conversation before this one (a health check is about none).
        set_conversation(None)
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        if token_matches(presented_token(request), settings.token):
            set_conversation(_sender_of(request))  # on every log line of this action call
            return None
        logger.warning(
            "refused %s %s from %s: missing or wrong token", request.method, request.path,
            request.ip,
        )  # fmt: skip
        return _unauthorized()

    @app.exception(SanicException)
    async def routing_error(request: Request, error: SanicException) -> HTTPResponse:
        # rasa-sdk's handler turns everything, even a 404, into a 500 with the body echoed.
        status = int(getattr(error, "status_code", 500) or 500)
        return response.json({"error": str(error) if status < 500 else "server error"}, status)

    return app


def _sender_of(request: Request) -> str | None:
    """The conversation an action call is about (the tracker's sender id), if it says."""
    try:
        body = request.json
    except Exception:  # not JSON: rasa-sdk answers it; the log line just has no id
        return None
    tracker = body.get("tracker") if isinstance(body, dict) else None
    sender = tracker.get("sender_id") if isinstance(tracker, dict) else None
    return sender if isinstance(sender, str) else None


def run(settings: ActionServerSettings) -> None:
    """Serve the actions on ``settings.host``:``settings.port`` until stopped."""
    app = create_app(settings)
    configure_logging("actions")  # after the app: Sanic's loggers exist now
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info(
        "action server on http://%s:%d (token required; /health open)", settings.host, settings.port
    )
    app.run(
        settings.host,
        settings.port,
        workers=sdk_utils.number_of_sanic_workers(),
        access_log=False,  # its lines would carry Rasa's ?token=
    )


def main(argv: list[str] | None = None) -> int:
    """Read the settings, configure logging as rasa-sdk does, and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m actions.server",
        description="The action server; settings come from RIC_ACTIONS_HOST, "
        "RIC_ACTIONS_PORT and RIC_ACTIONS_TOKEN.",
    )
    sdk_utils.add_logging_level_option_arguments(parser)
    args = parser.parse_args(argv)
    sdk_utils.configure_colored_logging(args.loglevel)
    sdk_utils.update_sanic_log_level()
    try:
        settings = ActionServerSettings.from_env()
    except ActionServerConfigError as error:
        parser.exit(2, f"actions.server: {error}\n")
    run(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
