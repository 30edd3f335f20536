"""Train, evaluate, activate and roll back the assistant's model (issue 16, part 3).

* :mod:`~handoff_console.studio.models.registry`: the model versions on disk and the
  active pointer;
* :mod:`~handoff_console.studio.models.job`: the training job (its own process);
* :mod:`~handoff_console.studio.models.evaluation` and
  :mod:`~handoff_console.studio.models.heldout`: cross-validation and the held-out
  inbox messages (inside the job);
* :mod:`~handoff_console.studio.models.comparison`: a new version against the live one,
  and whether a regression blocks activation;
* :mod:`~handoff_console.studio.models.runs`: the console's background training runs;
* :mod:`~handoff_console.studio.models.run_store`: the runs' records in the registry
  (they outlive the console), and whether a run's job is alive;
* :mod:`~handoff_console.studio.models.activation`: ``PUT /model`` on the running Rasa
  server, with the regression gate and the audit log.
"""

from handoff_console.studio.models.registry import (
    ActiveModel,
    ModelRegistry,
    ModelVersion,
    RegistryError,
    TrainingInputs,
    UnknownVersion,
    parse_version,
)

__all__ = [
    "ActiveModel",
    "ModelRegistry",
    "ModelVersion",
    "RegistryError",
    "TrainingInputs",
    "UnknownVersion",
    "parse_version",
]
