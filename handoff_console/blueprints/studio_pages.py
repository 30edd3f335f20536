"""The admin studio's pages of the training-data editor (issue 16, admins only).

``/studio`` is the studio's landing page; ``/studio/intents``, ``/studio/responses`` and
``/studio/changes`` are the editor's shells, whose scripts work through
``/api/studio/training-data`` and ``/api/studio/changes``. The other studio pages
(inbox, candidates, health, models) live in their own blueprints and share
:mod:`handoff_console.blueprints.studio_frame`.
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.blueprints.studio_frame import require_admin, studio_page

__all__ = ["bp"]

bp = Blueprint("studio_pages")


@bp.get("/studio", name="studio_home")
@require_admin
async def studio_home(request: Request) -> HTTPResponse:
    """The studio's landing page: what each of its pages is for."""
    return studio_page(request, "studio_home.html", "")
