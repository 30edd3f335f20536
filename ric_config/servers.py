"""Settings of the servers: addresses, Rasa, the action server, the console, the launcher."""

from __future__ import annotations

from pydantic import SecretStr, validator

from ric_config._base import RicSettings, secret, setting, switch

__all__ = ["ActionsConfig", "ConsoleConfig", "LauncherConfig", "NetworkConfig", "RasaConfig"]

_SLOT_KEY_MIN_LENGTH = 16  # the shortest RIC_SLOT_KEY accepted


class NetworkConfig(RicSettings):
    """Where the servers listen and how browsers reach them.

    Attributes:
        bind_host: interface the Rasa server and the console bind to (the action server
            uses `RIC_ACTIONS_HOST`)
        public_host: host name printed in URLs and used by the demo page
    """

    area = "Addresses"

    bind_host: str = setting("127.0.0.1", "RIC_BIND_HOST")
    public_host: str = setting("localhost", "RIC_PUBLIC_HOST")


class RasaConfig(RicSettings):
    """How the other processes reach the Rasa server, and its API token.

    Attributes:
        rasa_port: the Rasa server's port
        rasa_url: the Rasa server as the console and the worker reach it (set by the
            launcher)
        rasa_public_url: where browsers load the widget from.
            Default: `http://$RIC_PUBLIC_HOST:$RIC_RASA_PORT`
        rasa_token: token for Rasa's HTTP API (`?token=`); the API never runs without
            one. Rasa gets it through its environment, never its command line
            (docs/security.md). Default: generated into `var/secrets/rasa_token`
        rasa_token_file: a file holding the Rasa token, read by
            `python -m launcher.rasa_server` when `RASA_AUTH_TOKEN` is empty
    """

    area = "Rasa server"

    rasa_port: int = setting(5005, "RIC_RASA_PORT", blank="unset")
    rasa_url: str = setting("http://127.0.0.1:5005", "RIC_RASA_URL")
    rasa_public_url: str | None = setting(None, "RIC_RASA_PUBLIC_URL")
    rasa_token: SecretStr = secret("RASA_AUTH_TOKEN", strip=False)
    rasa_token_file: str | None = setting(None, "RASA_AUTH_TOKEN_FILE")


class ActionsConfig(RicSettings):
    """Where the action server listens, its token, and how the actions behave.

    Attributes:
        actions_host: interface the action server binds to; not `RIC_BIND_HOST`, since
            only Rasa calls it (docs/security.md)
        actions_port: the action server's port
        actions_token: shared token between Rasa and the action server: Rasa sends it
            with every action call (`token` of `action_endpoint` in `endpoints.yml`, as
            `?token=`), the action server answers 401 without it; never logged.
            Default: generated into `var/secrets/actions_token`
        actions_health_url: where the console's status page checks the action server
            (`/health`, the one route without a token).
            Default: `http://127.0.0.1:$RIC_ACTIONS_PORT/health` (the launcher sets it
            from `RIC_ACTIONS_HOST` and `RIC_ACTIONS_PORT`)
        slot_key: secret the action server seals the reader's card number with before
            it puts it in Rasa's `card_number` slot, so the tracker store never holds a
            card in clear (docs/privacy.md); at least 16 characters, e.g.
            `openssl rand -base64 32`. Only the action server reads it; changing it makes
            the form ask readers in the middle of a sign-in for their card again.
            Default: derived from `RIC_ACTIONS_TOKEN`
        verification_ttl_seconds: how long a card-and-PIN sign-in lasts
        chat_always_staffed: `1`: librarians staff the chat at any hour (tests and
            demos), unless the test clock is set
    """

    area = "Action server and actions"

    actions_host: str = setting("127.0.0.1", "RIC_ACTIONS_HOST", blank="unset")
    actions_port: int = setting(5055, "RIC_ACTIONS_PORT", blank="unset")
    actions_token: SecretStr = secret("RIC_ACTIONS_TOKEN", strip=False)
    actions_health_url: str | None = setting(None, "RIC_ACTIONS_HEALTH_URL")
    slot_key: SecretStr = secret("RIC_SLOT_KEY")
    verification_ttl_seconds: int = setting(900, "RIC_VERIFICATION_TTL_SECONDS")
    chat_always_staffed: bool = switch("RIC_CHAT_ALWAYS_STAFFED")

    @validator("slot_key")
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        """Refuse a slot key too short to be a secret (empty means derive it)."""
        if 0 < len(value.get_secret_value()) < _SLOT_KEY_MIN_LENGTH:
            raise ValueError(f"must be at least {_SLOT_KEY_MIN_LENGTH} characters")
        return value


class ConsoleConfig(RicSettings):
    """The console's port, proxies, health thresholds and the admin CLI's password.

    Attributes:
        console_port: the console's port
        trusted_proxies: addresses or networks (`127.0.0.1, 10.0.0.0/8, ::1`, comma- or
            space-separated) of reverse proxies in front of the console. Only when the
            peer is one of them does the console read the client's address from
            `X-Forwarded-For` (the rightmost entry that is not a trusted proxy);
            otherwise the header is ignored. The login throttle counts failures per
            account *and* client address, so set this when the console is behind a
            proxy, or every client shares the proxy's address. A value that is not an
            address stops the console at start-up (docs/security.md).
            Default: unset (none)
        ingest_lag_degraded_events: the console's health (status page,
            `GET /api/health`) turns *Ingestion* `degraded` when the reader store's copy
            is more than this many tracker-store events behind (docs/worker.md)
        ingest_lag_degraded_seconds: ... or this many seconds behind
        admin_password: password for `python -m handoff_console.admin create-*`;
            prompted for when unset
    """

    area = "Console"

    console_port: int = setting(5006, "RIC_CONSOLE_PORT", blank="unset")
    trusted_proxies: str = setting("", "RIC_TRUSTED_PROXIES")
    ingest_lag_degraded_events: int = setting(500, "RIC_INGEST_LAG_DEGRADED_EVENTS")
    ingest_lag_degraded_seconds: float = setting(60.0, "RIC_INGEST_LAG_DEGRADED_SECONDS")
    admin_password: SecretStr = secret("RIC_ADMIN_PASSWORD", strip=False)


class LauncherConfig(RicSettings):
    """How the launcher waits for the processes and where it caches trained models.

    Attributes:
        start_timeout: seconds `./ric start` waits for every process to be ready
        model_cache: trained models, keyed by data hash.
            Default: `$XDG_CACHE_HOME/reader-interaction-center/models`
        xdg_cache_home: the user's cache folder, under which the model cache lives.
            Default: `~/.cache`
    """

    area = "Launcher"

    start_timeout: float = setting(300.0, "RIC_START_TIMEOUT")
    model_cache: str | None = setting(None, "RIC_MODEL_CACHE")
    xdg_cache_home: str | None = setting(None, "XDG_CACHE_HOME")
