"""A demo library web page with the chat widget embedded by one script tag."""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.blueprints._render import render

bp = Blueprint("demo")


@bp.get("/demo")
async def demo(request: Request) -> HTTPResponse:
    """The demo library page."""
    return render(request, "demo.html")
