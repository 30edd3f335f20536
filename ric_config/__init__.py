"""Typed settings of every process, read from the environment in one place.

The bottom layer: it imports nothing from the project, and every package may use it.
Each area has one pydantic ``BaseSettings`` model whose fields name their environment
variables; ``docs/configuration.md`` is generated from them (``python -m ric_config.docs``).

Build a model where the setting is used (``ConsoleConfig().console_port``): the models
are cheap, and a fresh one sees the environment as it is now (tests change it).
Keyword arguments override the environment. A wrong value raises
:class:`SettingsError`, which names the variable.
"""

from __future__ import annotations

from ric_config._base import RicSettings, SettingsError
from ric_config.areas import ALL_SETTINGS, check_environment
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

__all__ = [
    "ALL_SETTINGS",
    "ActionsConfig",
    "AnalyticsConfig",
    "ConsoleConfig",
    "DashboardConfig",
    "DemoConfig",
    "EmailConfig",
    "LauncherConfig",
    "LibraryConfig",
    "LogConfig",
    "MailOutboxConfig",
    "NetworkConfig",
    "NluInboxConfig",
    "PrivacyConfig",
    "RasaConfig",
    "RateLimitConfig",
    "ReaderValueConfig",
    "RicSettings",
    "SecurityConfig",
    "SettingsError",
    "SlackConfig",
    "StoreConfig",
    "StudioConfig",
    "StudioModelsConfig",
    "TelegramConfig",
    "WebchatConfig",
    "WorkerConfig",
    "check_environment",
]
