"""The training-data editor's API (issue 16, admins only): intents, responses, files, changes.

Names with a slash (``faq/wifi``, ``utter_faq/wifi``) and file paths travel in the
``?name=`` and ``?path=`` query, so the routes stay plain. Every save names the version
it started from (409 ``version_conflict`` when someone saved first), is validated with
Rasa and the project's checks (400 ``invalid_yaml`` / ``invalid_training_data`` with
``problems``), and is recorded in the audit log with the admin's name.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import AuditEntry, StaffUser
from handoff_console import api
from handoff_console.blueprints.studio_frame import STUDIO_ROLES
from handoff_console.schemas import studio_editor as schema
from handoff_console.services.errors import BadRequest
from handoff_console.studio.training_data import EDITOR_ACTIONS, BotProject, Editor

__all__ = ["bp"]

bp = Blueprint("studio_editor")

M = TypeVar("M", bound=BaseModel)
TAG = "studio: training data"
NAME = api.Query("name", {"type": "string"}, "the intent, FAQ topic (faq/wifi) or response")
PATH = api.Query("path", {"type": "string"}, "a file such as data/nlu/faq_services.yml")
INVALID = "bad_request, invalid_yaml or invalid_training_data (with problems: every reason)"
CONFLICT = "version_conflict (with current_version) or already exists"
SAVE_ERRORS = {400: INVALID, 403: "forbidden", 404: "not found", 409: CONFLICT}
READ_ERRORS = {400: "bad_request", 403: "forbidden", 404: "not found"}


def _op(summary: str, ok: Any, *, query: tuple[api.Query, ...] = (), **more: Any) -> api.Operation:
    errors = SAVE_ERRORS if "body" in more else READ_ERRORS
    return api.Operation(
        summary, ok, query=query, errors=errors, roles=STUDIO_ROLES, tag=TAG, **more
    )


def _body(request: Request, model: type[M]) -> M:
    """The JSON body checked against ``model``; a 400 naming the first wrong field."""
    try:
        return model.parse_obj(api.json_body(request))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadRequest("bad_request", f"{where}: {first['msg']}") from error


def _arg(request: Request, name: str) -> str:
    value = request.args.get(name)
    if not value or not value.strip():
        raise BadRequest("bad_request", f"Give ?{name}=.")
    return value.strip()


async def _edit(request: Request, work: Callable[[Editor], Any], status: int = 200) -> HTTPResponse:
    """Run ``work`` with an editor for the caller, in one store transaction, as JSON."""
    me = api.staff(request)
    project = BotProject.from_settings()
    cancelled = threading.Event()

    def run(session: Session) -> Any:
        return work(Editor(project, session, me.id, me.display_name, cancelled))

    try:
        return await api.answer(request, run, status)
    except asyncio.CancelledError:
        # Sanic gave up (the response timeout): the save must not land after its error.
        cancelled.set()
        raise


@api.route(
    bp,
    "GET",
    "/api/studio/training-data",
    _op("Intents, FAQ topics, entities and files", schema.TrainingOverview),
)
async def overview(request: Request) -> HTTPResponse:
    """Every intent and FAQ topic with its example count."""
    return await _edit(request, lambda e: schema.TrainingOverview.view(**e.overview()))


@api.route(
    bp,
    "GET",
    "/api/studio/training-data/intent",
    _op("One intent or FAQ topic", schema.IntentDetail, query=(NAME,)),
)
async def intent(request: Request) -> HTTPResponse:
    """An intent's examples, version and (FAQ topic) answer."""
    name = _arg(request, "name")
    return await _edit(request, lambda e: schema.IntentDetail.view(**e.intent(name)))


SET_EXAMPLES = _op(
    "Replace an intent's examples (add, edit, delete, reorder)",
    schema.IntentSaved,
    query=(NAME,),
    body=schema.ExamplesBody,
)


@api.route(bp, "PUT", "/api/studio/training-data/intent", SET_EXAMPLES)
async def set_examples(request: Request) -> HTTPResponse:
    """Save an intent's examples."""
    name, body = _arg(request, "name"), _body(request, schema.ExamplesBody)
    examples = [item.dict() for item in body.examples]
    return await _edit(
        request,
        lambda e: schema.IntentSaved.view(**e.set_examples(name, body.version, examples)),
    )


MOVE = _op(
    "Move examples to another intent", schema.IntentSaved, query=(NAME,), body=schema.MoveBody
)


@api.route(bp, "POST", "/api/studio/training-data/intent/move", MOVE)
async def move(request: Request) -> HTTPResponse:
    """Move examples of ``?name=`` to another intent or FAQ topic."""
    name, body = _arg(request, "name"), _body(request, schema.MoveBody)
    return await _edit(
        request,
        lambda e: schema.IntentSaved.view(
            **e.move_examples(name, body.version, body.examples, body.to, body.to_version)
        ),
    )


RENAME = _op(
    "Rename an intent or FAQ topic in the NLU data, domain, rules, stories and buttons",
    schema.IntentSaved,
    query=(NAME,),
    body=schema.RenameBody,
)


@api.route(bp, "POST", "/api/studio/training-data/intent/rename", RENAME)
async def rename(request: Request) -> HTTPResponse:
    """Rename ``?name=`` everywhere it is named."""
    name, body = _arg(request, "name"), _body(request, schema.RenameBody)
    return await _edit(
        request,
        lambda e: schema.IntentSaved.view(**e.rename_intent(name, body.version, body.new_name)),
    )


CREATE = _op(
    "Create an intent, or an FAQ topic with its answer",
    schema.IntentSaved,
    status=201,
    body=schema.NewIntent,
)


@api.route(bp, "POST", "/api/studio/training-data/intents", CREATE)
async def create(request: Request) -> HTTPResponse:
    """Create an intent or FAQ topic."""
    body = _body(request, schema.NewIntent)
    return await _edit(
        request,
        lambda e: schema.IntentSaved.view(
            **e.create_intent(body.name, body.examples, body.file, body.answer)
        ),
        201,
    )


@api.route(
    bp,
    "GET",
    "/api/studio/training-data/responses",
    _op("Every response", api.ItemList(schema.ResponseSummary)),
)
async def response_list(request: Request) -> HTTPResponse:
    """Every ``utter_*`` response and FAQ answer."""
    return await _edit(
        request, lambda e: {"items": [schema.ResponseSummary.view(**r) for r in e.response_list()]}
    )


@api.route(
    bp,
    "GET",
    "/api/studio/training-data/response",
    _op("One response", schema.ResponseDetail, query=(NAME,)),
)
async def one_response(request: Request) -> HTTPResponse:
    """A response's variations and version."""
    name = _arg(request, "name")
    return await _edit(request, lambda e: schema.ResponseDetail.view(**e.response(name)))


SET_RESPONSE = _op(
    "Replace a response's variations (text, buttons, channel)",
    schema.ResponseSaved,
    query=(NAME,),
    body=schema.ResponseBody,
)


@api.route(bp, "PUT", "/api/studio/training-data/response", SET_RESPONSE)
async def set_response(request: Request) -> HTTPResponse:
    """Save a response's variations."""
    name, body = _arg(request, "name"), _body(request, schema.ResponseBody)
    variations = [v.dict() for v in body.variations]
    return await _edit(
        request,
        lambda e: schema.ResponseSaved.view(**e.set_response(name, body.version, variations)),
    )


NEW_RESPONSE = _op("Add a response", schema.ResponseSaved, status=201, body=schema.NewResponse)


@api.route(bp, "POST", "/api/studio/training-data/responses", NEW_RESPONSE)
async def create_response(request: Request) -> HTTPResponse:
    """Add a response ``utter_<name>`` or ``utter_faq/<topic>``."""
    body = _body(request, schema.NewResponse)
    variations = [v.dict() for v in body.variations]
    return await _edit(
        request,
        lambda e: schema.ResponseSaved.view(**e.create_response(body.name, variations)),
        201,
    )


@api.route(
    bp,
    "GET",
    "/api/studio/training-data/file",
    _op("One YAML file", schema.YamlFile, query=(PATH,)),
)
async def yaml_file(request: Request) -> HTTPResponse:
    """A YAML file's text and version, for the raw editor."""
    path = _arg(request, "path")
    return await _edit(request, lambda e: schema.YamlFile.view(**e.file(path)))


SET_FILE = _op("Replace a YAML file's text", schema.FileSaved, query=(PATH,), body=schema.FileBody)


@api.route(bp, "PUT", "/api/studio/training-data/file", SET_FILE)
async def set_file(request: Request) -> HTTPResponse:
    """Save a YAML file's text (validated like every other save)."""
    path, body = _arg(request, "path"), _body(request, schema.FileBody)
    return await _edit(
        request, lambda e: schema.FileSaved.view(**e.set_file(path, body.version, body.content))
    )


def _changes(editor: Editor) -> dict[str, Any]:
    pending = editor.pending()
    files = [schema.ChangedFile.view_of(change) for change in pending.files]
    return schema.Changes.view(baseline=pending.baseline, files=files)


@api.route(
    bp, "GET", "/api/studio/changes", _op("Pending changes of the training data", schema.Changes)
)
async def changes(request: Request) -> HTTPResponse:
    """Every file that differs from git HEAD (or the baseline snapshot), with its diff."""
    return await _edit(request, _changes)


PATCH = _op(
    "The pending changes as a patch (git apply)",
    {"type": "string"},
    media="text/x-diff",
    ok_description="A unified diff, as an attachment",
)


@api.route(bp, "GET", "/api/studio/changes/patch", PATCH)
async def patch(request: Request) -> HTTPResponse:
    """Download the pending changes as ``training-data.patch``."""
    me = api.staff(request)
    project = BotProject.from_settings()
    text = await api.in_store(
        request, lambda s: Editor(project, s, me.id, me.display_name).pending().patch
    )
    return response.text(
        text,
        content_type="text/x-diff; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="training-data.patch"'},
    )


DISCARD = _op(
    "Discard pending changes (all, or some files)", schema.Discarded, body=schema.DiscardBody
)


@api.route(bp, "POST", "/api/studio/changes/discard", DISCARD)
async def discard(request: Request) -> HTTPResponse:
    """Put files back as they are in git HEAD (or the baseline snapshot)."""
    body = _body(request, schema.DiscardBody)
    return await _edit(request, lambda e: schema.Discarded.view(**e.discard(body.paths)))


HISTORY = api.Query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "default 100")


def _history(session: Session, limit: int) -> dict[str, Any]:
    rows = session.execute(
        select(AuditEntry, StaffUser.display_name)
        .join(StaffUser, StaffUser.id == AuditEntry.staff_user_id, isouter=True)
        .where(AuditEntry.action.in_(EDITOR_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()
    items = [
        schema.StudioAuditEntry.view(
            id=entry.id,
            at=entry.created_at,
            by=name,
            action=entry.action,
            subject=entry.subject,
            files=list((entry.detail or {}).get("files") or []),
        )
        for entry, name in rows
    ]
    return {"items": items}


@api.route(
    bp,
    "GET",
    "/api/studio/changes/history",
    _op("Who changed the training data", api.ItemList(schema.StudioAuditEntry), query=(HISTORY,)),
)
async def history(request: Request) -> HTTPResponse:
    """The latest studio changes from the audit log, newest first, with the admin's name."""
    raw = request.args.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise BadRequest("bad_request", "limit is a whole number from 1 to 500.")
    return await api.answer(request, lambda s: _history(s, int(raw)))
