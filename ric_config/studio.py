"""Settings of the admin studio (issue 16): where the training data it edits lives."""

from __future__ import annotations

from ric_config._base import RicSettings, trimmed

__all__ = ["StudioConfig"]


class StudioConfig(RicSettings):
    """The Rasa project the admin studio edits.

    Attributes:
        studio_bot_dir: the Rasa project folder the studio's training-data editor reads
            and writes: `data/` (NLU, rules, stories) and `domain/` (or `domain.yml`) in
            it. Default: the project's `bot/`
        studio_config_file: the Rasa `config.yml` the editor's validation uses.
            Default: the project's `config.yml`
        studio_state_dir: where the studio keeps the baseline snapshot of a training-data
            folder that is not in a git repository (pending changes are shown against
            it). Default: `var/studio` (the launcher: `$RIC_VAR_DIR/studio`)
    """

    area = "Admin studio"

    studio_bot_dir: str | None = trimmed(None, "RIC_STUDIO_BOT_DIR")
    studio_config_file: str | None = trimmed(None, "RIC_STUDIO_CONFIG_FILE")
    studio_state_dir: str | None = trimmed(None, "RIC_STUDIO_STATE_DIR")
