"""Email replies that did not reach the reader yet, per conversation (issue 18).

``GET /api/conversations/<id>/mail-delivery`` lists the conversation's mails the SMTP
server refused or could not take: being retried (with the next try's time) or
expired. ``static/mail_delivery.js`` shows them on the conversation page; the home
page's *Email delivery* row counts them for the whole service.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from crm_store.mail_outbox import undelivered
from crm_store.models import Conversation
from handoff_console import api
from handoff_console.schemas.mail_outbox import MailDelivery
from handoff_console.services.errors import NotFound

__all__ = ["bp"]

bp = Blueprint("api_mail_outbox")

MAIL_DELIVERY = api.Operation(
    "The conversation's email replies not delivered yet: retried with backoff, or expired",
    api.ItemList(MailDelivery),
    errors={404: "No such conversation"},
)


@api.route(bp, "GET", "/api/conversations/<conversation_id:id>/mail-delivery", MAIL_DELIVERY)
async def mail_delivery(request: Request, conversation_id: int) -> HTTPResponse:
    """The mails of this conversation that the SMTP server has not accepted."""

    def _read(session: Session) -> list[dict[str, Any]]:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound(message="No such conversation.")
        return [
            MailDelivery.view(**vars(item), retrying=item.retrying)
            for item in undelivered(session, [str(conversation.sender_id)])
        ]

    return response.json({"items": await api.in_store(request, _read)})
