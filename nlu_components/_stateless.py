"""The base of our graph components that have nothing to train or persist."""

from __future__ import annotations

from typing import Any, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

__all__ = ["StatelessComponent"]

_Component = TypeVar("_Component", bound="StatelessComponent")


class StatelessComponent(GraphComponent):
    """A graph component built from its config alone: no training, nothing persisted.

    ``component_config`` holds ``get_default_config()`` overridden by the pipeline's
    options. Subclasses that need more set-up extend ``__init__`` and call ``super()``;
    one that needs the execution context overrides :meth:`from_config`.
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        """Merge ``config`` over the component's defaults."""
        self.component_config = {**self.get_default_config(), **(config or {})}

    @classmethod
    def create(
        cls: type[_Component],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _Component:
        """Create the component from its config (see ``GraphComponent.create``)."""
        return cls.from_config(config, execution_context)

    @classmethod
    def from_config(
        cls: type[_Component], config: dict[str, Any], execution_context: ExecutionContext
    ) -> _Component:
        """Build the component from the merged config; the pipeline node is in the context."""
        return cls(config)
