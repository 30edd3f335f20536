"""End to end: a conversation resolved in the widget gets exactly one satisfaction survey,
and the reader's answer is stored against the conversation and the librarian.

Everything real (``python -m launcher up``): the widget socket, Rasa, the action server
and the console API. The survey job runs here, on a travelling clock, against the
system's reader store and Rasa, exactly as the worker runs it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from crm_store import clock
from crm_store.models import Feedback
from crm_store.models.operations import Survey
from tests.aio import run
from tests.live_console import conversation_id as conversation_of_sender
from tests.live_console import handoff_in_widget, live_librarian, wait_for
from tests.webchat_client import bot_texts
from worker.jobs.surveys import run_surveys

pytestmark = pytest.mark.rasa

RATING_QUESTION = "How would you rate your experience today? 1 is poor, 5 is excellent."


def test_a_resolved_widget_conversation_gets_one_survey_and_the_answer_is_stored(
    system: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIC_RASA_URL", system.rasa_url)
    monkeypatch.setenv("RASA_AUTH_TOKEN", system.token)
    monkeypatch.setenv("RIC_SURVEY_DELAY_MINUTES", "60")
    monkeypatch.setenv("RIC_QUIET_HOURS", "off")
    librarian = live_librarian(system, "Jo Survey", "survey")
    api, sessions, staff_id = librarian.api, librarian.sessions, librarian.staff_id
    travelling = clock.TravelClock(datetime.now(timezone.utc))
    previous = clock.install(travelling)

    async def scenario() -> None:
        widget = await handoff_in_widget(system)
        sender_id = widget.session_id
        assert sender_id is not None
        conversation_id = await asyncio.to_thread(conversation_of_sender, sessions, sender_id)
        assert api.post(f"/api/conversations/{conversation_id}/claim").status == 200
        resolved = api.post(f"/api/conversations/{conversation_id}/resolve", {"note": "done"})
        assert resolved.status == 200, resolved.text

        # Before the delay nothing is sent; after it, exactly one survey. Other tests'
        # conversations in the shared system may fall due at the same time, so the
        # checks are about this conversation's survey.
        early = await asyncio.to_thread(run_surveys, sessions)
        with sessions() as session:
            mine = session.execute(
                select(Survey.id).where(Survey.conversation_id == conversation_id)
            ).scalar_one()
        assert mine not in early.sent_ids
        travelling.advance(timedelta(minutes=61))
        due = await asyncio.to_thread(run_surveys, sessions)
        assert due.sent_ids.count(mine) == 1
        again = await asyncio.to_thread(run_surveys, sessions)
        assert mine not in again.sent_ids

        while True:
            frame = await widget.recv_until("bot", timeout=30)
            if frame["text"] == RATING_QUESTION:
                break
        assert [b["title"] for b in frame["buttons"]] == ["1", "2", "3", "4", "5"]
        five = frame["buttons"][4]
        comment_prompt = bot_texts(await widget.click(five["title"], five["payload"]))
        assert any("Anything you'd like to add?" in t for t in comment_prompt), comment_prompt
        thanks = bot_texts(await widget.say("Jo found my thesis sources <b>fast</b>"))
        assert "Thank you for your feedback! It helps us improve." in thanks

        def answered() -> Survey | None:
            with sessions() as session:
                survey = session.execute(
                    select(Survey).where(Survey.conversation_id == conversation_id)
                ).scalar_one()
                return survey if survey.status == "answered" else None

        survey = await asyncio.to_thread(wait_for, answered)
        with sessions() as session:
            feedback = session.get(Feedback, survey.feedback_id)
            assert feedback is not None
            assert (
                feedback.conversation_id,
                feedback.librarian_id,
                feedback.rating,
                feedback.comment,
                feedback.source,
            ) == (
                conversation_id,
                staff_id,
                5,
                "Jo found my thesis sources <b>fast</b>",
                "csat_survey",
            )
            surveys = (
                session.execute(select(Survey).where(Survey.conversation_id == conversation_id))
                .scalars()
                .all()
            )
        assert [(s.staff_user_id, s.sent_channel) for s in surveys] == [(staff_id, "webchat")]

        travelling.advance(timedelta(days=2))
        later = await asyncio.to_thread(run_surveys, sessions)
        assert mine not in later.sent_ids
        await widget.close()

    try:
        run(scenario())
    finally:
        clock.install(previous)
        sessions.kw["bind"].dispose()
