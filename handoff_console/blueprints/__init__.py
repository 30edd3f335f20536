"""One blueprint per console feature.

The pages (``home``, ``pages``, ``readers_pages``, ``static_files``, ``demo``) and
sign-in (``auth``) are added by ``create_app``; the JSON API's blueprints
(``api_*`` and the OpenAPI document) by :func:`register_api`.
"""

from __future__ import annotations

from handoff_console.blueprints.register import API_BLUEPRINTS, register_api

__all__ = ["API_BLUEPRINTS", "register_api"]
