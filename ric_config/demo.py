"""Settings of the demo data ``./ric up`` seeds into a fresh reader store."""

from __future__ import annotations

from ric_config._base import RicSettings, trimmed, yes_no

__all__ = ["DemoConfig"]


class DemoConfig(RicSettings):
    """Whether a fresh install gets a demo conversation history.

    Attributes:
        demo_history: seed about 90 days of generated library chats (with handoffs,
            ratings and tickets) when the reader store has no conversation yet, so the
            manager dashboard and the NLU inbox have something to show; never into a
            store that has conversations, and only once (`1/true/yes/on` or
            `0/false/no/off`)
    """

    area = "Demo data"

    demo_history: bool = trimmed(True, "RIC_DEMO_HISTORY", parse=yes_no)
