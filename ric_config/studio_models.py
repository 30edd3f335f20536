"""Settings of the admin studio's models: where versions are kept, how they are judged."""

from __future__ import annotations

from ric_config._base import RicSettings, trimmed

__all__ = ["StudioModelsConfig"]


class StudioModelsConfig(RicSettings):
    """Where trained model versions are kept and how a new one is judged before it goes live.

    Attributes:
        model_registry: the folder of trained model versions (`v<N>.tar.gz`, each with
            its manifest, evaluation and training-data snapshot) and the active pointer.
            Default: `$RIC_VAR_DIR/models` (`var/models`)
        regression_tolerance: how far a new model's cross-validated F1 (macro, or of
            any one intent or FAQ topic with at least 5 examples, which must also fall
            by more than two examples' worth), or its accuracy on the held-out inbox
            messages, may fall below the live model's before activation is blocked
            unless an admin overrides it (0 to 1)
        cv_folds: cross-validation folds of the NLU pipeline when a model is evaluated
            (2 to 10)
    """

    area = "Admin studio: models"

    model_registry: str | None = trimmed(None, "RIC_MODEL_REGISTRY")
    regression_tolerance: float = trimmed(0.05, "RIC_STUDIO_REGRESSION_TOLERANCE", ge=0, le=1)
    cv_folds: int = trimmed(3, "RIC_STUDIO_CV_FOLDS", ge=2, le=10)
