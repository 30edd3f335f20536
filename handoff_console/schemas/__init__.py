"""The console API's JSON shapes as pydantic models: one class per shape.

The services build their views with ``Model.view(...)`` and the OpenAPI document
(``handoff_console.openapi``) takes its schemas from the same classes. Each module
holds one area: :mod:`~handoff_console.schemas.conversations` (queue, conversation,
handoff, messages), :mod:`~handoff_console.schemas.desk` (tickets, canned
responses, staff), :mod:`~handoff_console.schemas.readers`,
:mod:`~handoff_console.schemas.worker` (notifications, follow-ups, preferences),
:mod:`~handoff_console.schemas.analytics`, :mod:`~handoff_console.schemas.auth` and
:mod:`~handoff_console.schemas.system` (health).
"""

from __future__ import annotations

from handoff_console.schemas.base import ApiModel, Day, Error, RecordId, Timestamp

__all__ = ["ApiModel", "Day", "Error", "RecordId", "Timestamp"]
