"""Rasa-shaped chat events for the demo history, and what demo readers ask.

:class:`Chat` builds one Rasa conversation's events (reader messages parsed as an
intent, bot replies, librarian replies through Rasa, ``pause``/``resume``, actions) at
given times; :func:`ingest_chats` writes them with :func:`crm_store.ingestion.ingest`,
exactly as the worker's catch-up does. :data:`TOPICS` lists what readers ask, with the
real intent names and FAQ topics of ``bot/data/nlu``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, ingest

__all__ = ["FALLBACK_TEXTS", "TOPICS", "Chat", "Topic", "ingest_chats"]


@dataclass
class Chat:
    """The events of one Rasa conversation (``sender_id``) on one channel."""

    sender_id: str
    channel: str
    events: list[RasaEvent] = field(default_factory=list)

    def _add(self, body: dict[str, Any]) -> Chat:
        self.events.append(RasaEvent(self.sender_id, body))
        return self

    def reader(
        self,
        when: datetime,
        text: str,
        intent: str = "library_hours",
        faq: str | None = None,
        confidence: float = 0.9,
    ) -> Chat:
        """The reader writes ``text``, parsed as ``intent`` (an FAQ topic when given)."""
        parse: dict[str, Any] = {"intent": {"name": intent, "confidence": confidence}}
        if faq is not None:
            parse["response_selector"] = {"faq": {"response": {"intent_response_key": faq}}}
        return self._add(
            {
                "event": "user",
                "timestamp": when.timestamp(),
                "text": text,
                "input_channel": self.channel,
                "parse_data": parse,
            }
        )

    def bot(self, when: datetime, text: str = "Here you are.") -> Chat:
        """The bot answers."""
        return self._add({"event": "bot", "timestamp": when.timestamp(), "text": text})

    def librarian(
        self, when: datetime, librarian_id: int, text: str = "Hello, a librarian here."
    ) -> Chat:
        """A librarian answers through Rasa (metadata names them)."""
        return self._add(
            {
                "event": "bot",
                "timestamp": when.timestamp(),
                "text": text,
                "metadata": {"librarian_id": librarian_id},
            }
        )

    def slot(self, when: datetime, name: str, value: str) -> Chat:
        """A slot is set (``home_branch``, ``pickup_branch``)."""
        return self._add(
            {"event": "slot", "timestamp": when.timestamp(), "name": name, "value": value}
        )

    def action(self, when: datetime, name: str) -> Chat:
        """An action runs (``action_default_fallback``)."""
        return self._add({"event": "action", "timestamp": when.timestamp(), "name": name})

    def pause(self, when: datetime) -> Chat:
        """Rasa pauses the conversation for a librarian (a handoff)."""
        return self._add({"event": "pause", "timestamp": when.timestamp()})

    def resume(self, when: datetime) -> Chat:
        """Rasa resumes the conversation after the handoff."""
        return self._add({"event": "resume", "timestamp": when.timestamp()})


def ingest_chats(sessions: sessionmaker[Session], *chats: Chat) -> int:
    """Ingest every chat's events in one batch, as the catch-up does; returns new events."""
    with sessions.begin() as session:
        return ingest(session, [e for chat in chats for e in chat.events], "catchup")


@dataclass(frozen=True)
class Topic:
    """Something readers ask: its intent (FAQ topic), how often, their words, the answer."""

    intent: str
    faq: str | None
    weight: int
    texts: tuple[str, ...]
    answer: str


def _faq(topic: str, weight: int, answer: str, *texts: str) -> Topic:
    return Topic("faq", f"faq/{topic}", weight, texts, answer)


TOPICS: tuple[Topic, ...] = (
    Topic("library_hours", None, 14, (
        "When do you open today?", "what time does the library close", "Are you open on Sunday?",
        "opening hours tomorrow?", "Is the central branch open late on Thursday?",
    ), "Central Library is open today from 9:00 to 20:00."),
    Topic("renew_loans", None, 12, (
        "Can I renew my books?", "please renew everything I have", "renew my loans",
        "I need more time with my books", "extend my loan please",
    ), "Done: 3 items renewed, now due in three weeks."),
    Topic("place_hold", None, 8, (
        "Can I reserve The Overstory?", "place a hold on Educated by Tara Westover",
        "I'd like to put a book on hold", "reserve Klara and the Sun for me",
    ), "Your hold is placed; we will tell you when it is ready for pickup."),
    Topic("hold_status", None, 4, (
        "is my hold ready?", "where is my reservation", "has my hold arrived yet",
    ), "Your hold is in transit and should be ready on Friday."),
    Topic("check_fines", None, 6, (
        "Do I owe any fines?", "how much do I owe", "why do I have a fee on my account",
    ), "You owe 1.20 in late fees."),
    Topic("check_loans", None, 6, (
        "what do I have on loan?", "when are my books due", "show my loans",
    ), "You have 2 items on loan, the first due on the 14th."),
    Topic("search_catalog", None, 10, (
        "Do you have books by Octavia Butler?", "looking for a cookbook about bread",
        "is Dune available?", "books about the history of Lisbon",
        "do you have the new Sally Rooney novel",
    ), "I found 4 titles; the first two are on the shelf at Central."),
    Topic("library_location", None, 3, (
        "where is the east branch", "what's the address of the library", "how do I get to you",
    ), "Central Library is at 1 Library Square."),
    Topic("get_library_card", None, 3, (
        "how do I get a library card", "can I sign up online", "I want to become a member",
    ), "You can register online or at any desk with an ID."),
    Topic("reset_pin", None, 2, ("I forgot my PIN", "reset my pin please"),
          "I've sent a PIN reset link to the email on your account."),
    Topic("book_room", None, 3, (
        "can I book a study room", "reserve a meeting room for Tuesday",
    ), "Study rooms can be booked for up to 3 hours; here is the booking page."),
    Topic("interlibrary_loan", None, 2, (
        "can you get a book from another library", "interlibrary loan request",
    ), "Yes, send us the title and we will request it from a partner library."),
    Topic("research_help", None, 2, (
        "I need help finding sources for my thesis", "help with research on local history",
    ), "A subject librarian can help; shall I book you a session?"),
    Topic("access_eresources", None, 3, (
        "how do I read e-books from home", "the online databases won't let me log in",
    ), "Sign in with your card number and PIN on the e-resources page."),
    _faq("wifi", 5, "The Wi-Fi network is LIBRARY-GUEST; no password needed.",
         "what is the wifi password", "how do I connect to the wifi"),
    _faq("printing", 5, "Printing is 0.10 per page; send jobs from any library PC.",
         "how much does printing cost", "can I print from my laptop"),
    _faq("scanning", 2, "The scanners on floor 1 are free to use.", "is there a scanner"),
    _faq("lost_card", 2, "Report it at the desk; a new card costs 2.00.", "I lost my card"),
    _faq("guest_access", 1, "Guests can use the reading rooms and Wi-Fi.",
         "can a friend come in with me"),
    _faq("food_drink", 1, "Covered drinks are fine; food only in the café.",
         "can I eat in the library"),
    _faq("book_drop", 2, "The book drop by the main door is open all day.",
         "where can I return books after hours"),
    _faq("lost_damaged_item", 1, "Tell us at the desk; we will assess the cost.",
         "I spilled coffee on a library book"),
    _faq("accessibility", 1, "All branches have step-free access and hearing loops.",
         "is the library wheelchair accessible"),
    _faq("lockers", 1, "Lockers on the ground floor take a 1.00 coin, returned.",
         "are there lockers"),
    _faq("quiet_zones", 1, "Floor 3 is the silent study floor.", "where is the quiet area"),
    _faq("laptop_loans", 2, "Laptops can be borrowed for 4 hours at the desk.",
         "can I borrow a laptop"),
    _faq("loan_periods", 3, "Books are lent for three weeks, DVDs for one.",
         "how long can I keep a book"),
    _faq("borrowing_limits", 1, "You can have 20 items out at once.",
         "how many books can I borrow"),
    _faq("overdue_policy", 2, "Late fees are 0.20 a day per item, up to 5.00.",
         "what happens if my book is late"),
    _faq("parking", 2, "There is free parking for 2 hours behind the building.",
         "is there parking"),
    _faq("events", 3, "This week: story time on Wednesday and a poetry night on Friday.",
         "what events are on this week", "is there a book club"),
    _faq("holiday_closures", 2, "We are closed on public holidays.",
         "are you open on the bank holiday"),
    _faq("ebook_apps", 2, "Use Libby or the library app with your card number.",
         "which app do I use for ebooks"),
    _faq("citation_help", 1, "Our citation guide covers APA, MLA and Harvard.",
         "how do I cite a book in APA"),
    _faq("makerspace", 1, "The makerspace has 3D printers; book a slot online.",
         "can I use the 3D printer"),
)  # fmt: skip
"""What readers ask, with each topic's relative frequency."""

FALLBACK_TEXTS: tuple[str, ...] = (
    "do you sell stamps",
    "my cat ate the bookmark lol",
    "can I bring my bike inside",
    "is the piano in the lobby free to play",
    "what's the best pizza near you",
    "where can I charge my e-scooter",
    "do you take old encyclopedias",
    "can i pay my council tax here",
)
"""Messages the bot did not understand (``nlu_fallback``): the NLU inbox's material."""
