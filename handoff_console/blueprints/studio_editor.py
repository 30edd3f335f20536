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

from pydantic import BaseModel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import AuditEntry, StaffUser
from handoff_console import api
from handoff_console.blueprints.studio_frame import (
    limit_arg,
    parse_body,
    staff_editor,
    studio_operation,
)
from handoff_console.schemas import studio_editor as schema
from handoff_console.schemas.base import ApiModel
from handoff_console.services.errors import BadRequest
from handoff_console.studio.training_data import EDITOR_ACTIONS, BotProject, Editor, Saved

__all__ = ["bp"]

bp = Blueprint("studio_editor")

B = TypeVar("B", bound=BaseModel)
TAG = "studio: training data"
NAME = api.Query("name", {"type": "string"}, "the intent, FAQ topic (faq/wifi) or response")
PATH = api.Query("path", {"type": "string"}, "a file such as data/nlu/faq_services.yml")
INVALID = "bad_request, invalid_yaml or invalid_training_data (with problems: every reason)"
CONFLICT = "version_conflict (with current_version) or already exists"
SAVE_ERRORS = {400: INVALID, 403: "forbidden", 404: "not found", 409: CONFLICT}
READ_ERRORS = {400: "bad_request", 403: "forbidden", 404: "not found"}


def _op(summary: str, ok: Any, *, query: tuple[api.Query, ...] = (), **more: Any) -> api.Operation:
    errors = SAVE_ERRORS if "body" in more else READ_ERRORS
    return studio_operation(summary, ok, query=query, errors=errors, tag=TAG, **more)


def _body(request: Request, model: type[B]) -> B:
    """The JSON body checked against ``model``; a 400 naming the first wrong field."""
    return parse_body(request, model, "bad_request")


def _arg(request: Request, name: str) -> str:
    value = request.args.get(name)
    if not value or not value.strip():
        raise BadRequest("bad_request", f"Give ?{name}=.")
    return value.strip()


async def _edit(request: Request, work: Callable[[Editor], Any], status: int = 200) -> HTTPResponse:
    """Run ``work`` with an editor for the caller, in one store transaction, as JSON."""
    project = BotProject.from_settings()
    cancelled = threading.Event()

    def run(session: Session) -> Any:
        return work(staff_editor(request, session, project, cancelled))

    try:
        return await api.answer(request, run, status)
    except asyncio.CancelledError:
        # Sanic gave up (the response timeout): the save must not land after its error.
        cancelled.set()
        raise


async def _read(
    request: Request, arg: str, view: type[ApiModel], read: Callable[[Editor, str], Any]
) -> HTTPResponse:
    """Answer with ``view`` of what ``read`` finds under ``?<arg>=``."""
    value = _arg(request, arg)
    return await _edit(request, lambda e: view.view(**read(e, value)))


async def _change(
    request: Request,
    arg: str,
    body_model: type[B],
    view: type[ApiModel],
    change: Callable[[Editor, str, B], Any],
) -> HTTPResponse:
    """Apply ``change`` to what ``?<arg>=`` names, with the checked body; answer ``view``."""
    value, body = _arg(request, arg), _body(request, body_model)
    return await _edit(request, lambda e: view.view(**change(e, value, body)))


async def _create(
    request: Request, body_model: type[B], view: type[ApiModel], create: Callable[[Editor, B], Any]
) -> HTTPResponse:
    """Apply ``create`` with the checked body; answer ``view`` with 201."""
    body = _body(request, body_model)
    return await _edit(request, lambda e: view.view(**create(e, body)), 201)


@api.route(
    bp,
    "GET",
    "/api/studio/training-data",
    _op("Intents, FAQ topics, entities and files", schema.TrainingOverview),
)
async def overview(request: Request) -> HTTPResponse:
    """Every intent and FAQ topic with its example count."""
    return await _edit(request, lambda e: schema.TrainingOverview.view(**e.overview()))


INTENT = _op("One intent or FAQ topic", schema.IntentDetail, query=(NAME,))


@api.route(bp, "GET", "/api/studio/training-data/intent", INTENT)
async def intent(request: Request) -> HTTPResponse:
    """An intent's examples, version and (FAQ topic) answer."""
    return await _read(request, "name", schema.IntentDetail, Editor.intent)


SET_EXAMPLES = _op(
    "Replace an intent's examples (add, edit, delete, reorder)",
    schema.IntentSaved,
    query=(NAME,),
    body=schema.ExamplesBody,
)


@api.route(bp, "PUT", "/api/studio/training-data/intent", SET_EXAMPLES)
async def set_examples(request: Request) -> HTTPResponse:
    """Save an intent's examples."""

    def save(e: Editor, name: str, body: schema.ExamplesBody) -> Saved:
        return e.set_examples(name, body.version, [item.dict() for item in body.examples])

    return await _change(request, "name", schema.ExamplesBody, schema.IntentSaved, save)


MOVE = _op(
    "Move examples to another intent", schema.IntentSaved, query=(NAME,), body=schema.MoveBody
)


@api.route(bp, "POST", "/api/studio/training-data/intent/move", MOVE)
async def move(request: Request) -> HTTPResponse:
    """Move examples of ``?name=`` to another intent or FAQ topic."""

    def save(e: Editor, name: str, body: schema.MoveBody) -> Saved:
        return e.move_examples(name, body.version, body.examples, body.to, body.to_version)

    return await _change(request, "name", schema.MoveBody, schema.IntentSaved, save)


RENAME = _op(
    "Rename an intent or FAQ topic in the NLU data, domain, rules, stories and buttons",
    schema.IntentSaved,
    query=(NAME,),
    body=schema.RenameBody,
)


@api.route(bp, "POST", "/api/studio/training-data/intent/rename", RENAME)
async def rename(request: Request) -> HTTPResponse:
    """Rename ``?name=`` everywhere it is named."""

    def save(e: Editor, name: str, body: schema.RenameBody) -> Saved:
        return e.rename_intent(name, body.version, body.new_name)

    return await _change(request, "name", schema.RenameBody, schema.IntentSaved, save)


CREATE = _op(
    "Create an intent, or an FAQ topic with its answer",
    schema.IntentSaved,
    status=201,
    body=schema.NewIntent,
)


@api.route(bp, "POST", "/api/studio/training-data/intents", CREATE)
async def create(request: Request) -> HTTPResponse:
    """Create an intent or FAQ topic."""

    def save(e: Editor, body: schema.NewIntent) -> Saved:
        return e.create_intent(body.name, body.examples, body.file, body.answer)

    return await _create(request, schema.NewIntent, schema.IntentSaved, save)


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


RESPONSE = _op("One response", schema.ResponseDetail, query=(NAME,))


@api.route(bp, "GET", "/api/studio/training-data/response", RESPONSE)
async def one_response(request: Request) -> HTTPResponse:
    """A response's variations and version."""
    return await _read(request, "name", schema.ResponseDetail, Editor.response)


SET_RESPONSE = _op(
    "Replace a response's variations (text, buttons, channel)",
    schema.ResponseSaved,
    query=(NAME,),
    body=schema.ResponseBody,
)


@api.route(bp, "PUT", "/api/studio/training-data/response", SET_RESPONSE)
async def set_response(request: Request) -> HTTPResponse:
    """Save a response's variations."""

    def save(e: Editor, name: str, body: schema.ResponseBody) -> Saved:
        return e.set_response(name, body.version, [v.dict() for v in body.variations])

    return await _change(request, "name", schema.ResponseBody, schema.ResponseSaved, save)


NEW_RESPONSE = _op("Add a response", schema.ResponseSaved, status=201, body=schema.NewResponse)


@api.route(bp, "POST", "/api/studio/training-data/responses", NEW_RESPONSE)
async def create_response(request: Request) -> HTTPResponse:
    """Add a response ``utter_<name>`` or ``utter_faq/<topic>``."""

    def save(e: Editor, body: schema.NewResponse) -> Saved:
        return e.create_response(body.name, [v.dict() for v in body.variations])

    return await _create(request, schema.NewResponse, schema.ResponseSaved, save)


YAML_FILE = _op("One YAML file", schema.YamlFile, query=(PATH,))


@api.route(bp, "GET", "/api/studio/training-data/file", YAML_FILE)
async def yaml_file(request: Request) -> HTTPResponse:
    """A YAML file's text and version, for the raw editor."""
    return await _read(request, "path", schema.YamlFile, Editor.file)


SET_FILE = _op("Replace a YAML file's text", schema.FileSaved, query=(PATH,), body=schema.FileBody)


@api.route(bp, "PUT", "/api/studio/training-data/file", SET_FILE)
async def set_file(request: Request) -> HTTPResponse:
    """Save a YAML file's text (validated like every other save)."""

    def save(e: Editor, path: str, body: schema.FileBody) -> Saved:
        return e.set_file(path, body.version, body.content)

    return await _change(request, "path", schema.FileBody, schema.FileSaved, save)


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
    project = BotProject.from_settings()
    text = await api.in_store(request, lambda s: staff_editor(request, s, project).pending().patch)
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
    limit = limit_arg(request, "bad_request")
    return await api.answer(request, lambda s: _history(s, limit))
