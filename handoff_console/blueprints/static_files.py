"""The console's own CSS and JavaScript under ``/static/``.

Only regular files inside ``handoff_console/static`` are served. ``/static/``, any
directory, anything missing, hidden (dot) files and paths that climb out of the
folder answer 404. Sanic's ``app.static`` opened directories as files and answered
``GET /static/`` with a 500 (``IsADirectoryError``).
"""

from __future__ import annotations

from mimetypes import guess_type
from pathlib import Path

from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

bp = Blueprint("static_files")


def static_path(name: str, root: Path = STATIC_DIR) -> Path | None:
    """The regular file that ``/static/<name>`` names, or None.

    Args:
        name: The URL path after ``/static/`` (already percent-decoded by Sanic).
        root: The folder served.

    Returns:
        The resolved path of a regular file inside ``root``, or None for anything
        else (directory, missing, dot file, ``..``, NUL, a link leading outside).
    """
    parts = [part for part in name.split("/") if part]
    if not parts or "\x00" in name or any(part.startswith(".") for part in parts):
        return None
    candidate = root.joinpath(*parts).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


@bp.get("/static/<name:path>")
async def static_file(request: Request, name: str) -> HTTPResponse:
    """One static file, with a guessed content type; 404 for anything but a file."""
    path = static_path(name)
    if path is None:
        raise NotFound("File not found")
    content_type = guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith("javascript"):
        content_type += "; charset=utf-8"
    return await response.file(path, mime_type=content_type)
