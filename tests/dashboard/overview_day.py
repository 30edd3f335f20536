"""The overview figures the hand-built day of :mod:`tests.dashboard.rollup_data` gives.

Shared by the API tests (a console on SQLite) and the read-model tests (SQLite and
PostgreSQL), so both check the same figures.
"""

from __future__ import annotations

__all__ = ["day_figures"]


def day_figures(open_tickets: int) -> dict[str, float | int]:
    """The overview's value per figure key for Monday 2026-03-02, rolled up.

    Args:
        open_tickets: The open tickets in the store (the day itself opens none; a test
            may add one).
    """
    return {
        "conversations": 5,
        "containment": 0.4,
        "handoff_rate": 0.2,
        "first_response_median": 600.0,
        "first_response_p90": 600.0,
        "resolution_median": 1800.0,
        "csat": 0.5,
        "fallback_rate": round(1 / 7, 4),
        "open_tickets": open_tickets,
    }
