"""Helpers shared by the action modules: naming, the reader store, reply pieces, tracker reading.

An action declares its domain name in its class statement, through :class:`Named`::

    class ActionForgetHold(Named, Action, name="action_forget_hold"):

and writes ``run`` with the short aliases :data:`Dispatcher` and :data:`Events`.
"""

from __future__ import annotations

import logging
import time
from abc import ABCMeta, abstractmethod
from functools import lru_cache
from typing import Any, ClassVar, TypeAlias

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from library.profile import LibraryProfile, ProfileError, load_profile
from ric_config import ActionsConfig

logger = logging.getLogger(__name__)

Dispatcher: TypeAlias = CollectingDispatcher
"""Where an action's replies go (rasa-sdk's ``CollectingDispatcher``)."""
Events: TypeAlias = list[EventType]
"""What an action returns: the events it adds to the conversation."""

LIBRARIAN_BUTTON = {"title": "Talk to a librarian", "payload": "/request_human"}
VERIFICATION_TTL_SECONDS = ActionsConfig().verification_ttl_seconds


class Named:
    """Gives an action the name declared with its class: ``class A(Named, Action, name="a")``.

    rasa-sdk asks every action (and form validator) for ``name()``; the name then stands
    on the line that introduces the action instead of in a method of its own.
    """

    _action_name: ClassVar[str]

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name is not None:
            cls._action_name = name

    def name(self) -> str:
        """The action's name in the domain."""
        return self._action_name


class ClearSlotsAction(Named, Action, metaclass=ABCMeta):
    """An action that says one thing and clears some slots (a flow the reader stopped).

    Subclasses set ``reply`` and ``slots`` as class attributes; until they do, the
    class is abstract, so the action server does not register this base itself.
    """

    @property
    @abstractmethod
    def reply(self) -> str:
        """What to tell the reader."""

    @property
    @abstractmethod
    def slots(self) -> tuple[str, ...]:
        """The slots to clear."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Say ``reply`` and set each of ``slots`` to None."""
        dispatcher.utter_message(text=self.reply)
        return [SlotSet(slot, None) for slot in self.slots]


@lru_cache(maxsize=1)
def store_sessions() -> sessionmaker[Session]:
    """Sessions on the reader store (``RIC_DATABASE_URL``), one engine per process."""
    return make_session_factory(make_engine())


def channel_of(tracker: Tracker) -> str:
    """The channel the reader is writing from (``webchat``, ``telegram`` ...)."""
    channel = tracker.get_latest_input_channel()
    return channel or "unknown"


def profile_or_apology(dispatcher: Dispatcher, apology: str) -> LibraryProfile | None:
    """The library profile, or None after telling the reader ``apology`` (and logging why)."""
    try:
        return load_profile()
    except ProfileError:
        logger.exception("cannot load the library profile")
        dispatcher.utter_message(text=apology)
        return None


def system_down(dispatcher: Dispatcher) -> None:
    """Tell the reader plainly that the library system is not answering."""
    dispatcher.utter_message(
        text=(
            "Sorry, the library system isn't answering right now, so I can't reach your "
            "account. Please try again in a few minutes, or a librarian can help you now."
        ),
        buttons=[LIBRARIAN_BUTTON],
    )


def is_verified(tracker: Tracker, now: float | None = None) -> bool:
    """Whether the reader proved who they are recently enough for account actions."""
    verified_at = tracker.get_slot("verified_at")
    if tracker.get_slot("pin_check") != "verified" or not isinstance(verified_at, int | float):
        return False
    return (now or time.time()) - float(verified_at) < VERIFICATION_TTL_SECONDS


def entity_values(message: dict[str, Any], name: str) -> list[str]:
    """Every value of one entity type in a parsed message."""
    return [
        str(e["value"])
        for e in message.get("entities") or []
        if e.get("entity") == name and e.get("value")
    ]


def typed_text(tracker: Tracker) -> str:
    """The reader's latest message exactly as sent, for free text that is stored.

    ``latest_message["text"]`` is what NLU saw, after ``MessageCleanup`` removed pasted
    email quoting and markup; a comment or a message for the librarians is kept as the
    reader wrote it (it is escaped wherever it is shown).
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return str(event.get("text") or "")
    return str(tracker.latest_message.get("text") or "")
