"""Helpers shared by the action modules: naming, the reader store, reply pieces, tracker reading.

An action declares its domain name in its class statement, through :class:`Named`::

    class ActionForgetHold(Named, Action, name="action_forget_hold"):

and writes ``run`` with the short aliases :data:`Dispatcher` and :data:`Events`.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from abc import ABCMeta, abstractmethod
from functools import lru_cache
from typing import Any, ClassVar, TypeAlias

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session, sessionmaker

from crm_store.card_seal import derive_key, open_card, seal_card
from crm_store.db import make_engine, make_session_factory
from crm_store.redaction import CARD_DIGITS
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


@lru_cache(maxsize=1)
def slot_key() -> bytes:
    """The key that seals the ``card_number`` slot, derived once per process.

    From ``RIC_SLOT_KEY``, else from the action server's ``RIC_ACTIONS_TOKEN`` (which
    the launcher generates and keeps in ``var/secrets/``). With neither (actions run
    outside the action server, which refuses to start without its token), a random
    key that lasts as long as the process.
    """
    config = ActionsConfig()
    secret = config.slot_key.get_secret_value() or config.actions_token.get_secret_value()
    if not secret:
        logger.warning(
            "neither RIC_SLOT_KEY nor RIC_ACTIONS_TOKEN is set: card numbers are sealed "
            "with a key this process forgets when it stops"
        )
        secret = secrets.token_urlsafe(32)
    return derive_key(secret)


def seal_card_slot(card_number: str) -> str:
    """The ``card_number`` slot value for a 14-digit card: sealed, never in clear."""
    return seal_card(card_number, slot_key())


def card_from_slot(value: Any) -> str | None:
    """The card number a ``card_number`` slot value holds, or None if it holds none.

    A sealed value is opened; one that does not open (sealed under a rotated key, or
    damaged) holds no card, so the form asks the reader again. 14 digits in clear are
    taken as they are: within one turn the form's extraction hands the number to its
    validation before the validation seals it.
    """
    if isinstance(value, str) and re.fullmatch(rf"\d{{{CARD_DIGITS}}}", value):
        return value
    return open_card(value, slot_key())
