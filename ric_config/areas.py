"""Every settings model, and a check of the whole environment at start-up."""

from __future__ import annotations

from collections.abc import Mapping

from ric_config._base import RicSettings, SettingsError
from ric_config.channels import EmailConfig, SlackConfig, TelegramConfig, WebchatConfig
from ric_config.dashboard import DashboardConfig
from ric_config.demo import DemoConfig
from ric_config.library import LibraryConfig
from ric_config.reader_value import ReaderValueConfig
from ric_config.security import LogConfig, RateLimitConfig, SecurityConfig
from ric_config.servers import (
    ActionsConfig,
    ConsoleConfig,
    LauncherConfig,
    NetworkConfig,
    RasaConfig,
)
from ric_config.store import StoreConfig
from ric_config.studio import StudioConfig
from ric_config.studio_inbox import NluInboxConfig
from ric_config.studio_models import StudioModelsConfig
from ric_config.trust import MailOutboxConfig, PrivacyConfig
from ric_config.worker import AnalyticsConfig, WorkerConfig

__all__ = ["ALL_SETTINGS", "check_environment"]

ALL_SETTINGS: tuple[type[RicSettings], ...] = (
    NetworkConfig,
    StoreConfig,
    RasaConfig,
    ActionsConfig,
    ConsoleConfig,
    SecurityConfig,
    LauncherConfig,
    LogConfig,
    LibraryConfig,
    WorkerConfig,
    AnalyticsConfig,
    DashboardConfig,
    ReaderValueConfig,
    WebchatConfig,
    TelegramConfig,
    SlackConfig,
    EmailConfig,
    RateLimitConfig,
    StudioConfig,
    StudioModelsConfig,
    NluInboxConfig,
    PrivacyConfig,
    MailOutboxConfig,
    DemoConfig,
)
"""Every settings model, in the order of ``docs/configuration.md``."""


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Read every area's settings once, so that a wrong value stops a start-up.

    The processes read their settings where they use them; the launcher calls this
    first, so that ``./ric start`` names every wrong variable before anything runs.

    Args:
        environ: The variables to check (``os.environ`` when omitted).

    Raises:
        SettingsError: One message naming every wrong variable.
    """
    problems: list[str] = []
    for model in ALL_SETTINGS:
        try:
            model.load(environ)
        except SettingsError as error:
            problems.append(str(error).removeprefix("invalid setting: "))
    if problems:
        raise SettingsError("invalid setting: " + "; ".join(problems))
