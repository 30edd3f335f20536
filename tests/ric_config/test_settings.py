"""Typed settings: one place reads the environment, all variables documented, secrets hidden."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

import ric_config
from ric_config import (
    ALL_SETTINGS,
    ActionsConfig,
    AnalyticsConfig,
    ConsoleConfig,
    EmailConfig,
    LibraryConfig,
    NetworkConfig,
    StoreConfig,
    WebchatConfig,
    WorkerConfig,
)
from ric_config.docs import DOC_PATH, render

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = (
    "actions",
    "connectors",
    "crm_store",
    "handoff_console",
    "launcher",
    "library",
    "messaging",
    "nlu_components",
    "rasa_plugins",
    "worker",
)
ENV_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}

ALLOWED_ENV_USES = {
    ("launcher/settings.py", "**os.environ,"): "hands the whole environment to child processes",
    ("launcher/training.py", 'env = {**os.environ, "PYTHONPATH": str(root)}'): (
        "hands the whole environment to `rasa train`"
    ),
    (
        "handoff_console/studio/models/job.py",
        'env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "PYTHONPATH": str(PROJECT)}',
    ): "hands the whole environment to the studio's `rasa train`, with its own cache folder",
    ("nlu_components/sentence_embeddings.py", 'os.environ["HF_HUB_OFFLINE"] = "1"'): (
        "writes: Hugging Face must be offline before it is imported"
    ),
    ("nlu_components/sentence_embeddings.py", 'os.environ["TRANSFORMERS_OFFLINE"] = "1"'): (
        "writes: as above, for transformers"
    ),
    ("worker/analytics/embeddings.py", 'os.environ["HF_HUB_OFFLINE"] = "1"'): (
        "writes: Hugging Face must be offline before the encoder is loaded"
    ),
    ("worker/analytics/embeddings.py", 'os.environ["TRANSFORMERS_OFFLINE"] = "1"'): (
        "writes: as above, for transformers"
    ),
}
"""Environment uses outside ``ric_config`` that are not reads of a setting, and why."""


def _env_uses() -> set[tuple[str, str]]:
    uses: set[tuple[str, str]] = set()
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            relative = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(source)):
                hit = (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "os"
                    and node.attr in ENV_NAMES
                ) or (
                    isinstance(node, ast.ImportFrom)
                    and node.module == "os"
                    and any(alias.name in ENV_NAMES for alias in node.names)
                )
                if hit:
                    uses.add((relative, lines[node.lineno - 1].strip().split("  #")[0]))
    return uses


def test_only_ric_config_reads_the_environment() -> None:
    uses = _env_uses()
    assert sorted(uses - ALLOWED_ENV_USES.keys()) == []
    assert sorted(ALLOWED_ENV_USES.keys() - uses) == []  # no stale exceptions


def test_ric_config_imports_nothing_from_the_project() -> None:
    imported: set[str] = set()
    for path in (ROOT / "ric_config").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert sorted(imported & set(SOURCE_PACKAGES)) == []


def test_every_variable_is_documented_and_the_document_is_up_to_date() -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    variables = [env for model in ALL_SETTINGS for env in model.variables().values()]
    assert [env for env in variables if f"| `{env}` |" not in text] == []
    assert len(variables) == len(set(variables))  # one setting per variable
    assert text == render(), "run: python -m ric_config.docs"


def test_every_model_is_exported_and_every_field_described() -> None:
    exported = {getattr(ric_config, name) for name in ric_config.__all__}
    assert [model.__name__ for model in ALL_SETTINGS if model not in exported] == []
    undescribed = [
        f"{model.__name__}.{name}"
        for model in ALL_SETTINGS
        for name, field in model.__fields__.items()
        if not field.field_info.description
    ]
    assert undescribed == []


def test_secrets_never_appear_in_a_repr() -> None:
    for model in ALL_SETTINGS:
        secrets = {
            name: env
            for name, env in model.variables().items()
            if model.__fields__[name].outer_type_ is SecretStr
        }
        # Long enough for every secret's minimum (RIC_SLOT_KEY: 16 characters).
        settings = model.load({env: f"s3cret-{name}-0123456789" for name, env in secrets.items()})
        for name in secrets:
            assert getattr(settings, name).get_secret_value() == f"s3cret-{name}-0123456789"
        assert "s3cret" not in repr(settings)
        assert "s3cret" not in str(settings)


def test_the_settings_see_the_environment_as_it_is_at_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RIC_DATABASE_URL", raising=False)
    assert StoreConfig().database_url is None
    monkeypatch.setenv("RIC_DATABASE_URL", "sqlite:///elsewhere.db")
    assert StoreConfig().database_url == "sqlite:///elsewhere.db"
    assert StoreConfig(database_url="sqlite:///given.db").database_url == "sqlite:///given.db"


def test_a_wrong_value_names_its_variable() -> None:
    with pytest.raises(ric_config.SettingsError, match="RIC_CONSOLE_PORT") as caught:
        ConsoleConfig.load({"RIC_CONSOLE_PORT": "fifty"})
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ric_config.SettingsError, match="RIC_CLUSTER_MIN_SIZE"):
        AnalyticsConfig.load({"RIC_CLUSTER_MIN_SIZE": "0"})
    with pytest.raises(ric_config.SettingsError, match="RIC_EMAIL_IMAP_SSL"):
        EmailConfig.load({"RIC_EMAIL_IMAP_SSL": "perhaps"})
    with pytest.raises(ric_config.SettingsError, match="RIC_VERIFICATION_TTL_SECONDS"):
        ActionsConfig.load({"RIC_VERIFICATION_TTL_SECONDS": ""})  # int("") failed before too


def test_empty_values_keep_the_meaning_they_had() -> None:
    # ``os.environ.get(name) or default``: empty means the default.
    assert ActionsConfig.load({"RIC_ACTIONS_HOST": ""}).actions_host == "127.0.0.1"
    assert ActionsConfig.load({"RIC_ACTIONS_PORT": ""}).actions_port == 5055
    assert LibraryConfig.load({"RIC_LIBRARY_SYSTEM": "  "}).library_system == "demo"
    assert EmailConfig.load({"RIC_EMAIL_IMAP_MAILBOX": " "}).imap_mailbox == "INBOX"
    # ``os.environ.get(name, default)``: empty stays empty.
    assert NetworkConfig.load({"RIC_BIND_HOST": ""}).bind_host == ""
    assert StoreConfig.load({"RIC_DATABASE_URL": ""}).database_url == ""
    # ``== "1"`` switches: only 1 turns them on.
    assert LibraryConfig.load({"RIC_LIBRARY_SYSTEM_DOWN": "1"}).library_system_down is True
    assert LibraryConfig.load({"RIC_LIBRARY_SYSTEM_DOWN": "yes"}).library_system_down is False
    assert AnalyticsConfig.load({"RIC_CLUSTERING": "OFF"}).clustering is False
    assert WebchatConfig.load({"RIC_WEBCHAT_QUEUE_SIZE": " "}).queue_size is None


def test_the_worker_logs_a_wrong_timing_and_uses_the_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ric_config"):
        config = WorkerConfig.load(
            {
                "RIC_SURVEY_DELAY_MINUTES": "soon",
                "RIC_ABANDON_SECONDS": "",
                "RIC_WORKER_LOCK_KEY": "0x10",
                "RIC_SURVEY_BOT_RESOLVED": "nope",
            }
        )
    assert (config.survey_delay_minutes, config.abandon_seconds) == (60, 300)
    assert (config.worker_lock_key, config.survey_bot_resolved) == (16, False)
    assert "RIC_SURVEY_DELAY_MINUTES" in caplog.text
    assert "RIC_ABANDON_SECONDS" in caplog.text


def test_the_processes_settings_keep_their_secrets_out_of_the_repr(tmp_path: Path) -> None:
    from actions.server import ActionServerSettings
    from connectors.email.settings import EmailSettings
    from connectors.slack.settings import SlackSettings
    from connectors.telegram.bot import TelegramSettings
    from handoff_console.settings import ConsoleSettings
    from launcher.settings import Settings
    from worker.jobs.follow_ups import SmtpSettings

    secret = "s3cret"
    objects = [
        ActionServerSettings(token=secret),
        EmailSettings(imap_password=secret, smtp_password=secret),
        SlackSettings(bot_token=secret, signing_secret=secret),
        TelegramSettings(bot_token=secret, secret_token=secret),
        ConsoleSettings.from_env(rasa_token=secret),
        SmtpSettings(host="smtp", port=25, sender="a@b", password=secret),
        Settings(
            root=tmp_path,
            var_dir=tmp_path,
            bind_host="127.0.0.1",
            public_host="localhost",
            rasa_port=5005,
            actions_port=5055,
            console_port=5006,
            database_url="sqlite://",
            tracker_database_url="sqlite://",
            rasa_token=secret,
            actions_token=secret,
        ),
    ]
    assert [type(item).__name__ for item in objects if secret in repr(item)] == []


def test_the_start_up_check_names_every_wrong_variable() -> None:
    ric_config.check_environment({})
    with pytest.raises(ric_config.SettingsError) as caught:
        ric_config.check_environment({"RIC_CONSOLE_PORT": "x", "RIC_EMAIL_SMTP_PORT": "y"})
    assert "RIC_CONSOLE_PORT" in str(caught.value)
    assert "RIC_EMAIL_SMTP_PORT" in str(caught.value)
