"""The admin studio's landing page and the training-data editor's pages (issue 16, admins only).

``/studio`` is the studio's landing page; ``/studio/intents``, ``/studio/responses`` and
``/studio/changes`` are the editor's shells, whose scripts work through
``/api/studio/training-data`` and ``/api/studio/changes``. The other studio pages
(inbox, candidates, health, models) live in their own blueprints and share
:mod:`handoff_console.blueprints.studio_frame`.

Opening an editor page starts, in the background, what makes the first save quick:
importing Rasa and checking the training data as it is (the baseline of the checks).
"""

from __future__ import annotations

import asyncio
import logging

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.blueprints.studio_frame import require_admin, studio_page
from handoff_console.studio.training_data import BotProject, warm_up

__all__ = ["bp"]

logger = logging.getLogger(__name__)

bp = Blueprint("studio_pages")


@bp.get("/studio", name="studio_home")
@require_admin
async def studio_home(request: Request) -> HTTPResponse:
    """The studio's landing page: what each of its pages is for."""
    return studio_page(request, "studio_home.html", "")


async def _warm_up(project: BotProject) -> None:
    try:
        await asyncio.to_thread(warm_up, project)
    except Exception:  # a broken file is reported by the save that meets it
        logger.exception("could not check the training data in %s ahead of a save", project.root)


def _editor_page(request: Request, template: str, tab: str) -> HTTPResponse:
    project = BotProject.from_settings()
    if not getattr(request.app.ctx, "studio_warmed", False):
        request.app.ctx.studio_warmed = True
        request.app.add_task(_warm_up(project))
    return studio_page(request, template, tab, bot_dir=project.display_root())


@bp.get("/studio/intents", name="studio_intents")
@require_admin
async def studio_intents(request: Request) -> HTTPResponse:
    """Intents and FAQ topics: examples, entity annotation, create, rename, raw YAML."""
    return _editor_page(request, "studio_intents.html", "intents")


@bp.get("/studio/responses", name="studio_responses")
@require_admin
async def studio_responses(request: Request) -> HTTPResponse:
    """Responses and FAQ answers: variations, buttons, and channel previews."""
    return _editor_page(request, "studio_responses.html", "responses")


@bp.get("/studio/changes", name="studio_changes")
@require_admin
async def studio_changes(request: Request) -> HTTPResponse:
    """Pending changes of the training data: diff, discard, patch, history."""
    return _editor_page(request, "studio_changes.html", "changes")
