"""The shape of the health report (``GET /api/health``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Timestamp

__all__ = ["HealthReport", "IngestionHealth", "ServiceHealth"]

Status = Literal["up", "degraded", "down"]


class ServiceHealth(ApiModel):
    """One service's state."""

    name: str
    status: Status
    detail: str


class IngestionHealth(ApiModel):
    """The reader store's copy of the tracker store; figures are null when they cannot be read."""

    status: Status
    detail: str
    events_behind: int | None
    seconds_behind: float | None
    quarantined: int | None
    last_quarantined_at: Timestamp | None
    tracker_position: int | None
    store_position: int | None
    degraded_after_events: int
    degraded_after_seconds: float


class HealthReport(ApiModel):
    """Health of every service, and the ingestion lag and quarantine."""

    status: Literal["up", "degraded"]
    services: list[ServiceHealth]
    ingestion: IngestionHealth = Field(
        description="the reader store's copy of the tracker store; figures are null when "
        "they cannot be read"
    )
