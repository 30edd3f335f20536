"""Where the models' part of the studio finds its registry and training data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handoff_console.studio.models.registry import ModelRegistry, TrainingInputs
from ric_config import StoreConfig, StudioConfig, StudioModelsConfig

__all__ = ["PROJECT", "ModelsSettings"]

PROJECT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class ModelsSettings:
    """The registry, what to train from, and how a new model is judged.

    Attributes:
        registry: ``RIC_MODEL_REGISTRY`` (default ``$RIC_VAR_DIR/models``).
        inputs: The studio's Rasa project (``RIC_STUDIO_BOT_DIR``, ``RIC_STUDIO_CONFIG_FILE``;
            by default the project's ``bot/`` and ``config.yml``), which the editor writes.
        tolerance: ``RIC_STUDIO_REGRESSION_TOLERANCE``.
        folds: ``RIC_STUDIO_CV_FOLDS``.
    """

    registry: ModelRegistry
    inputs: TrainingInputs
    tolerance: float
    folds: int

    @classmethod
    def from_env(cls) -> ModelsSettings:
        """Read the settings from the environment (through ``ric_config``)."""
        models, studio = StudioModelsConfig(), StudioConfig()
        var_dir = Path(StoreConfig().var_dir or PROJECT / "var")
        registry = Path(models.model_registry) if models.model_registry else var_dir / "models"
        bot_dir = Path(studio.studio_bot_dir) if studio.studio_bot_dir else PROJECT / "bot"
        config = (
            Path(studio.studio_config_file) if studio.studio_config_file else PROJECT / "config.yml"
        )
        return cls(
            ModelRegistry(registry.resolve()),
            TrainingInputs(config.resolve(), bot_dir.resolve()),
            models.regression_tolerance,
            models.cv_folds,
        )
