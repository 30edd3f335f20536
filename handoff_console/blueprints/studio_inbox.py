"""The studio's NLU inbox, FAQ candidates and intent health: pages and API (admins only).

Pages (shells; ``static/studio_inbox.js`` does the work through the API):
``/studio/inbox``, ``/studio/candidates`` and ``/studio/health``.

API:

* ``GET /api/studio/inbox``: reader messages the bot handled poorly, grouped;
* ``POST /api/studio/inbox/decisions``: assign messages (or a whole group) to an intent
  or FAQ topic, mark them out of scope, or dismiss them;
* ``GET /api/studio/candidates``: librarians' answers proposed for the FAQ (newly
  resolved handoffs are proposed first);
* ``POST /api/studio/candidates/{id}/accept`` (edited or not) and ``.../reject``;
* ``GET /api/studio/health``: confusable intents, thin intents, unused FAQ topics,
  conflicting examples.

Labels and accepted candidates are written into the training data through the
training-data editor (``RIC_STUDIO_BOT_DIR``), validated and audited.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from crm_store import clock
from handoff_console import api
from handoff_console.blueprints.studio_frame import (
    limit_arg,
    require_admin,
    staff_editor,
    studio_operation,
    studio_page,
)
from handoff_console.schemas.studio_inbox import (
    CandidateAccept,
    CandidateDecided,
    CandidateList,
    HealthReply,
    InboxDecided,
    InboxDecisionBody,
    InboxReply,
)
from handoff_console.studio.annotations import plain
from handoff_console.studio.inbox import service
from handoff_console.studio.inbox.health import ensure_encoded, faq_hits, intent_health
from handoff_console.studio.training_data.model import snapshot
from handoff_console.studio.training_data.project import BotProject
from ric_config.studio_inbox import NluInboxConfig

__all__ = ["bp"]

bp = Blueprint("studio_inbox")
TAG = "studio: inbox"
FORBIDDEN = {403: "forbidden: admins only"}
EDIT_ERRORS = {
    **FORBIDDEN,
    400: "bad_request, bad_messages, bad_decision, no_label, no_answer, bad_topic or an "
    "invalid training-data edit (the reason)",
    404: "no_intent: no such intent or topic (give an answer to create an FAQ topic)",
    409: "already_decided, or version_conflict: the training data changed meanwhile",
}


def _operation(summary: str, ok: Any, **details: Any) -> api.Operation:
    errors = details.pop("errors", FORBIDDEN)
    return studio_operation(summary, ok, tag=TAG, errors=errors, **details)


async def _with_editor(request: Request, work: Any) -> Any:
    return await api.in_store(request, lambda s: work(s, staff_editor(request, s)))


# -- pages ---------------------------------------------------------------------------

PAGES = (
    ("/studio/inbox", "inbox", "The NLU inbox: misunderstood reader messages, grouped, labelled."),
    ("/studio/candidates", "candidates", "FAQ candidates: librarians' answers to review."),
    ("/studio/health", "health", "Intent health: confusable, thin, unused, conflicting."),
)
"""(route, studio tab, what the page shows); each renders ``studio_<tab>.html``."""


def _page(tab: str, summary: str) -> Any:
    @require_admin
    async def show(request: Request) -> HTTPResponse:
        return studio_page(request, f"studio_{tab}.html", tab)

    show.__doc__ = summary
    return show


for _uri, _tab, _summary in PAGES:
    bp.add_route(_page(_tab, _summary), _uri, methods=["GET"], name=f"studio_{_tab}")


# -- inbox ---------------------------------------------------------------------------

INBOX = _operation(
    "The NLU inbox: reader messages the bot handled poorly, grouped (masked, no identity)",
    InboxReply,
    query=(api.Query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "groups"),),
    errors={**FORBIDDEN, 400: "bad_limit"},
)
DECIDE = _operation(
    "Assign inbox messages to an intent or FAQ topic (written as examples), mark them out "
    "of scope, or dismiss them",
    InboxDecided,
    body=InboxDecisionBody,
    errors=EDIT_ERRORS,
)


@api.route(bp, "GET", "/api/studio/inbox", INBOX)
async def inbox(request: Request) -> HTTPResponse:
    """The undecided inbox, biggest group first, with the labels to assign to."""
    limit, config = limit_arg(request, "bad_limit"), NluInboxConfig()
    reply = await _with_editor(request, lambda s, e: service.inbox_view(s, e, config, limit))
    return response.json(InboxReply.view(**reply))


@api.route(bp, "POST", "/api/studio/inbox/decisions", DECIDE)
async def decide(request: Request) -> HTTPResponse:
    """Record a decision about messages and write what it teaches into the training data."""
    body = api.json_body(request)
    reply = await _with_editor(request, lambda s, e: service.label_messages(s, e, body))
    return response.json(InboxDecided.view(**reply))


# -- candidates ------------------------------------------------------------------------

CANDIDATES = _operation(
    "FAQ candidates from resolved handoffs (newly resolved ones are proposed first)",
    CandidateList,
    query=(api.Query("status", {"type": "string", "enum": ["pending", "accepted", "rejected"]}),),
    errors={**FORBIDDEN, 400: "bad_status"},
)
ACCEPT = _operation(
    "Accept a candidate (edited or not): extend its topic, or create a new FAQ topic",
    CandidateDecided,
    body=CandidateAccept,
    errors={**EDIT_ERRORS, 404: "not_found"},
)
REJECT = _operation(
    "Reject a candidate",
    CandidateDecided,
    errors={**FORBIDDEN, 404: "not_found", 409: "already_decided"},
)


@api.route(bp, "GET", "/api/studio/candidates", CANDIDATES)
async def candidates(request: Request) -> HTTPResponse:
    """FAQ candidates, newest first; ``?status=pending`` for the ones to review."""
    status, config = request.args.get("status"), NluInboxConfig()
    reply = await _with_editor(request, lambda s, e: service.candidate_list(s, e, config, status))
    return response.json(CandidateList.view(**reply))


@api.route(bp, "POST", "/api/studio/candidates/<candidate_id:id>/accept", ACCEPT)
async def accept(request: Request, candidate_id: int) -> HTTPResponse:
    """Accept a candidate into the training data."""
    body = api.json_body(request)
    reply = await _with_editor(
        request, lambda s, e: service.accept_candidate(s, e, candidate_id, body)
    )
    return response.json(CandidateDecided.view(**reply))


@api.route(bp, "POST", "/api/studio/candidates/<candidate_id:id>/reject", REJECT)
async def reject(request: Request, candidate_id: int) -> HTTPResponse:
    """Reject a candidate; nothing is written."""
    reply = await _with_editor(request, lambda s, e: service.reject_candidate(s, e, candidate_id))
    return response.json(CandidateDecided.view(**reply))


# -- health ----------------------------------------------------------------------------

HEALTH = _operation(
    "Intent health: confusable pairs, too few examples, FAQ topics never hit, conflicts",
    HealthReply,
    errors={
        **FORBIDDEN,
        202: "computing: the sentence encoder is still encoding the examples (the first "
        "report after a start); ask again in a few seconds",
    },
)
ENCODING_WAIT = 20.0
"""How long a health request waits for the examples' embeddings before answering 202."""


def _confusions(request: Request) -> tuple[list[dict[str, Any]], str | None]:
    """The newest evaluated model's cross-validation confusions (the Models tab's)."""
    models = getattr(request.app.ctx, "studio_models", None)
    if models is None:
        return [], None
    evaluated = [v for v in models.settings.registry.versions() if (v.evaluation or {}).get("cv")]
    if not evaluated:
        return [], None
    newest = max(evaluated, key=lambda v: v.number)
    return list(newest.evaluation["cv"].get("confusions") or []), str(newest.label)


@api.route(bp, "GET", "/api/studio/health", HEALTH)
async def health(request: Request) -> HTTPResponse:
    """The health of the training data (embeddings cached per example text)."""
    config = NluInboxConfig()
    since = clock.now() - timedelta(days=config.inbox_window_days)
    hits = await api.in_store(request, lambda s: faq_hits(s, since))
    project = BotProject.from_settings()
    confusions, source = await asyncio.to_thread(_confusions, request)

    def _examples() -> dict[str, list[str]]:
        return {
            label: [e.text for e in found] for label, found in snapshot(project).examples().items()
        }

    examples = await asyncio.to_thread(_examples)
    texts = [plain(text) for found in examples.values() for text in found]
    if not await asyncio.to_thread(ensure_encoded, texts, ENCODING_WAIT):
        return response.json(
            {
                "error": "computing",
                "message": f"Encoding {len(texts)} examples for the report; ask again shortly.",
            },
            status=202,
        )

    def _report() -> dict[str, Any]:
        return intent_health(
            examples,
            hits,
            min_examples=config.health_min_examples,
            similarity=config.health_similarity,
            confusions=confusions,
        )

    report = await asyncio.to_thread(_report)
    return response.json(
        HealthReply.view(**report, confusions_from=source, window_days=config.inbox_window_days)
    )
