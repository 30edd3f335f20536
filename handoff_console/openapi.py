"""The console API's OpenAPI 3.0 document, served at ``GET /api/openapi.json``."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.services.ids import MAX_ID

bp = Blueprint("api_openapi")


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _items(name: str) -> dict[str, Any]:
    return {"type": "object", "properties": {"items": {"type": "array", "items": _ref(name)}}}


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    public: bool = False,
    tag: str = "console",
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if not public:
        operation["responses"].setdefault("401", _error("Not signed in"))
    if body is not None:
        operation["requestBody"] = body
    if parameters:
        operation["parameters"] = parameters
    if public:
        operation["security"] = []
    return operation


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
"""Every record id: a positive 63-bit integer; any other integer is answered 404."""


def _path_id(name: str = "id") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


NULLABLE_STR = {"type": "string", "nullable": True}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": "string", "format": "date-time", "nullable": True}
PERSON = {
    "type": "object",
    "nullable": True,
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "example": "already_claimed"},
            "message": {"type": "string"},
            "claimed_by": {"type": "string", "description": "with already_claimed"},
        },
    },
    "QueueItem": {
        "type": "object",
        "properties": {
            "conversation_id": {"type": "integer"},
            "sender_id": {"type": "string"},
            "channel": {"type": "string"},
            "handoff_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["waiting", "claimed"]},
            "reason": {"type": "string"},
            "requested_at": DATETIME,
            "waiting_seconds": {"type": "integer"},
            "reader": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "id": {"type": "integer"},
                    "name": NULLABLE_STR,
                    "verified": {"type": "boolean"},
                },
            },
            "last_message": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "text": NULLABLE_STR,
                    "sender_kind": {"type": "string"},
                    "sent_at": DATETIME,
                },
            },
            "librarian": PERSON,
            "department": NULLABLE_STR,
        },
    },
    "Handoff": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {
                "type": "string",
                "enum": ["waiting", "claimed", "resolved", "abandoned", "ticketed"],
            },
            "reason": {"type": "string"},
            "librarian": PERSON,
            "requested_at": DATETIME,
            "claimed_at": NULLABLE_DATETIME,
            "first_response_at": NULLABLE_DATETIME,
            "resolved_at": NULLABLE_DATETIME,
            "resolution_note": NULLABLE_STR,
            "tags": {"type": "array", "items": {"type": "string"}},
            "department": NULLABLE_STR,
            "transfer_note": NULLABLE_STR,
        },
    },
    "HandoffReply": {"type": "object", "properties": {"handoff": _ref("Handoff")}},
    "Message": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "sender_kind": {"type": "string", "enum": ["reader", "bot", "librarian", "system"]},
            "text": {
                "type": "string",
                "nullable": True,
                "description": "As the reader typed it; escape before display.",
            },
            "channel": {"type": "string"},
            "sent_at": DATETIME,
            "librarian_name": NULLABLE_STR,
        },
    },
    "Note": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "author": NULLABLE_STR,
            "body": {"type": "string"},
            "created_at": DATETIME,
        },
    },
    "Outbound": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "conversation_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending", "sent", "failed", "pending_email"]},
            "attempts": {"type": "integer"},
            "last_error": NULLABLE_STR,
            "text": {"type": "string"},
            "created_at": DATETIME,
        },
    },
    "Reader": {
        "type": "object",
        "nullable": True,
        "properties": {
            "id": {"type": "integer"},
            "name": NULLABLE_STR,
            "email": NULLABLE_STR,
            "card_number_masked": NULLABLE_STR,
            "verified": {"type": "boolean"},
            "identities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "channel": {"type": "string"},
                        "external_id": {"type": "string"},
                    },
                },
            },
            "loans_summary": {
                "type": "string",
                "nullable": True,
                "description": "Only while the reader is signed in (card and PIN) in this "
                "conversation; otherwise null.",
            },
            "past_conversations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "channel": {"type": "string"},
                        "started_at": DATETIME,
                        "status": {"type": "string"},
                    },
                },
            },
            "tickets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "subject": {"type": "string"},
                        "status": {"type": "string"},
                    },
                },
            },
            "feedback": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "rating": {"type": "integer"},
                        "comment": NULLABLE_STR,
                        "created_at": DATETIME,
                    },
                },
            },
        },
    },
    "Conversation": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "sender_id": {"type": "string"},
            "channel": {"type": "string"},
            "status": {"type": "string", "enum": ["active", "handoff", "resolved", "abandoned"]},
            "handoff": {"allOf": [_ref("Handoff")], "nullable": True},
            "messages": {"type": "array", "items": _ref("Message")},
            "notes": {"type": "array", "items": _ref("Note")},
            "reader": _ref("Reader"),
            "undelivered": {
                "type": "array",
                "items": _ref("Outbound"),
                "description": "Librarian messages pending or failed.",
            },
        },
    },
    "Ticket": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "subject": {"type": "string"},
            "body": {"type": "string"},
            "contact": {
                "type": "string",
                "nullable": True,
                "description": "An email address, or <channel>:<sender_id>",
            },
            "status": {"type": "string", "enum": ["new", "open", "pending", "closed"]},
            "created_at": DATETIME,
            "conversation_id": {"type": "integer", "nullable": True},
            "reader": {"type": "object", "nullable": True},
        },
    },
    "CannedResponse": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "shortcut": NULLABLE_STR,
            "created_at": DATETIME,
        },
    },
    "Staff": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "display_name": {"type": "string"},
            "role": {"type": "string", "enum": ["librarian", "admin", "manager"]},
            "presence": {"type": "string", "enum": ["online", "away"]},
            "load": {"type": "integer"},
            "capacity": {"type": "integer"},
            "department": NULLABLE_STR,
        },
    },
    "Me": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"type": "string"},
            "csrf_token": NULLABLE_STR,
        },
    },
}

THROTTLE = {
    "type": "object",
    "properties": {
        "username": {"type": "string"},
        "address": {"type": "string"},
        "failures": {"type": "integer"},
        "last_failure_at": DATETIME,
        "retry_at": DATETIME,
        "retry_after": {"type": "integer", "description": "seconds; 0 when it may try now"},
    },
}
CONFLICT = _error("already_claimed (with claimed_by), not_in_handoff or at_capacity")
TEXT_BODY = _body({"text": {"type": "string", "maxLength": 4000}}, ["text"])


READER_FIELDS: dict[str, Any] = {
    "id": {"type": "integer"},
    "name": NULLABLE_STR,
    "email": NULLABLE_STR,
    "card": {"type": "string", "nullable": True, "description": "all but the last 4 masked"},
    "verified": {"type": "boolean"},
    "channels": {"type": "array", "items": {"type": "string"}},
    "created_at": DATETIME,
}
READER_BRIEF = {"type": "object", "properties": READER_FIELDS}
READER_PROFILE = {
    "type": "object",
    "properties": {
        **READER_FIELDS,
        "verified_at": NULLABLE_DATETIME,
        "identities": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "channel": {"type": "string"},
                    "external_id": {"type": "string"},
                    "reachable": {"type": "boolean"},
                    "last_seen_at": NULLABLE_DATETIME,
                    "created_at": DATETIME,
                },
            },
        },
        "reachable_conversation": {
            "type": "object",
            "nullable": True,
            "description": "where a message to the reader would go now",
            "properties": {
                "id": {"type": "integer"},
                "channel": {"type": "string"},
                "sender_id": {"type": "string"},
            },
        },
        "conversations": {"type": "array", "items": {"type": "object"}},
        "tickets": {"type": "array", "items": {"type": "object"}},
        "feedback": {"type": "array", "items": {"type": "object"}},
    },
}


def _reader_paths() -> dict[str, Any]:
    """The ``/api/readers`` endpoints (one reader across channels)."""
    reader = [_path_id()]
    editors = _error("Only librarians and admins may do this")
    return {
        "/api/readers": {
            "get": _op(
                "Search readers by name, email, channel address or the card's last digits; "
                "no q lists the newest",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": READER_BRIEF}},
                        }
                    )
                },
                parameters=[_query("q", {"type": "string", "maxLength": 200})],
            )
        },
        "/api/readers/{id}": {
            "get": _op(
                "A reader's identities on every channel, masked card, conversations, tickets "
                "and feedback",
                {"200": _json(READER_PROFILE), "404": _error("No such reader")},
                parameters=reader,
            )
        },
        "/api/readers/{id}/merge": {
            "post": _op(
                "Merge reader other_id into this one (librarians and admins); audited as "
                "reader.merge with every moved row",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "audit_id": {"type": "integer"},
                                "reader": READER_PROFILE,
                            },
                        }
                    ),
                    "400": _error("invalid_request (itself, no reason) or bad_request"),
                    "403": editors,
                    "404": _error("No such reader"),
                    "409": _error("card_conflict: verified with different cards; send force"),
                },
                body=_body(
                    {
                        "other_id": ID,
                        "reason": {"type": "string"},
                        "force": {"type": "boolean", "default": False},
                    },
                    ["other_id", "reason"],
                ),
                parameters=reader,
            )
        },
        "/api/readers/{id}/undo-merge": {
            "post": _op(
                "Undo a merge into this reader from its reader.merge audit entry (librarians "
                "and admins): the merged reader comes back with its id and rows",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "audit_id": {"type": "integer"},
                                "reader": READER_PROFILE,
                                "restored_reader": READER_PROFILE,
                            },
                        }
                    ),
                    "400": _error("invalid_request: undone already, or the id is taken"),
                    "403": editors,
                    "404": _error("No such reader or merge"),
                },
                body=_body(
                    {"audit_id": ID, "reason": {"type": "string"}},
                    ["audit_id", "reason"],
                ),
                parameters=reader,
            )
        },
        "/api/readers/{id}/split": {
            "post": _op(
                "Move identities (with their conversations, tickets and feedback) to a new "
                "reader (librarians and admins); audited as reader.split",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "audit_id": {"type": "integer"},
                                "reader": READER_PROFILE,
                                "new_reader": READER_PROFILE,
                            },
                        }
                    ),
                    "400": _error("invalid_request: none, all, or another reader's identities"),
                    "403": editors,
                    "404": _error("No such reader"),
                },
                body=_body(
                    {
                        "identity_ids": {"type": "array", "items": ID},
                        "reason": {"type": "string"},
                    },
                    ["identity_ids", "reason"],
                ),
                parameters=reader,
            )
        },
        "/api/readers/{id}/messages": {
            "post": _op(
                "Message the reader on their most recent reachable channel (librarians and admins)",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "status": {"type": "string"},
                                "channel": {"type": "string"},
                            },
                        }
                    ),
                    "400": _error("empty_text or text_too_long"),
                    "403": editors,
                    "404": _error("No such reader"),
                    "409": _error(
                        "unreachable: no channel can take it; recorded in the audit history "
                        "(audit_id), not sent"
                    ),
                    "502": _error("rasa_unreachable: saved as pending; the worker retries it"),
                },
                body=TEXT_BODY,
                parameters=reader,
            )
        },
        "/api/readers/{id}/audit": {
            "get": _op(
                "The reader's audit history, newest first: merges, splits, verification "
                "links, undeliverable messages (card numbers masked)",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": {"type": "object"}}},
                        }
                    ),
                    "404": _error("No such reader"),
                },
                parameters=reader,
            )
        },
    }


NOTIFICATION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "example": "ticket_reminder"},
        "subject": {"type": "string", "example": "ticket:12"},
        "title": {"type": "string"},
        "body": {"type": "string", "nullable": True},
        "link": {"type": "string", "nullable": True},
        "staff_user_id": {"type": "integer", "nullable": True},
        "email_status": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "read_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
FOLLOW_UP = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "conversation_id": {"type": "integer"},
        "staff_user_id": {"type": "integer", "nullable": True},
        "due": {"type": "string", "format": "date"},
        "note": {"type": "string", "nullable": True},
        "status": {
            "type": "string",
            "enum": ["scheduled", "sending", "sent", "answered", "cancelled", "undeliverable"],
        },
        "sent_at": {"type": "string", "format": "date-time", "nullable": True},
        "sent_channel": {"type": "string", "nullable": True},
        "answer": {"type": "string", "enum": ["yes", "no"], "nullable": True},
        "answer_text": {"type": "string", "nullable": True},
        "answered_at": {"type": "string", "format": "date-time", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
PREFERENCES = {
    "type": "object",
    "properties": {
        "reader_id": {"type": "integer"},
        "due_date_reminders": {"type": "boolean"},
        "hold_ready_notices": {"type": "boolean"},
        "reminder_days": {"type": "integer", "minimum": 0, "maximum": 30},
        "consent_given_at": {"type": "string", "format": "date-time", "nullable": True},
        "consent_withdrawn_at": {"type": "string", "format": "date-time", "nullable": True},
        "consent_source": {"type": "string", "nullable": True},
        "updated_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}


def _worker_paths() -> dict[str, Any]:
    """Notifications, follow-ups and reminder preferences (the worker's console side)."""
    one = [_path_id()]
    return {
        "/api/notifications": {
            "get": _op(
                "The caller's notifications (their own and unassigned ones), newest first",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": NOTIFICATION},
                                "unread": {"type": "integer"},
                            },
                        }
                    )
                },
                parameters=[_query("unread", {"type": "string", "enum": ["1"]}, "Unread only")],
            )
        },
        "/api/notifications/{id}/read": {
            "post": _op(
                "Mark a notification read",
                {"200": _json(NOTIFICATION), "404": _error("No such notification")},
                parameters=one,
            )
        },
        "/api/conversations/{id}/follow-up": {
            "post": _op(
                "Follow up with the reader on a date: the worker asks them on their latest "
                "reachable channel whether things were sorted",
                {
                    "201": _json(FOLLOW_UP, "Scheduled"),
                    "400": _error("bad_request: due missing, not a date or in the past"),
                    "404": _error("No such conversation"),
                    "409": _error("handoff_open: resolve the conversation first"),
                },
                body=_body(
                    {"due": {"type": "string", "format": "date"}, "note": {"type": "string"}},
                    ["due"],
                ),
                parameters=one,
            )
        },
        "/api/conversations/{id}/follow-ups": {
            "get": _op(
                "A conversation's follow-ups and the reader's answers",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": FOLLOW_UP}},
                        }
                    ),
                    "404": _error("No such conversation"),
                },
                parameters=one,
            )
        },
        "/api/follow-ups/{id}/cancel": {
            "post": _op(
                "Cancel a follow-up not yet sent",
                {
                    "200": _json(FOLLOW_UP),
                    "404": _error("No such follow-up"),
                    "409": _error("not_scheduled"),
                },
                parameters=one,
            )
        },
        "/api/readers/{id}/preferences": {
            "get": _op(
                "A reader's reminder preferences and consent times",
                {"200": _json(PREFERENCES), "404": _error("No such reader")},
                parameters=one,
            ),
            "put": _op(
                "Set a reader's reminder preferences on their behalf (recorded as consent "
                "given through the console)",
                {
                    "200": _json(PREFERENCES),
                    "400": _error("bad_request"),
                    "404": _error("No such reader"),
                },
                body=_body(
                    {
                        "due_date_reminders": {"type": "boolean"},
                        "hold_ready_notices": {"type": "boolean"},
                        "reminder_days": {"type": "integer", "minimum": 0, "maximum": 30},
                    }
                ),
                parameters=one,
            ),
        },
    }


def _analytics_paths() -> dict[str, Any]:
    from handoff_console.blueprints.api_analytics import openapi_paths

    return openapi_paths()


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.0 document of every ``/api`` endpoint."""
    conversation = [_path_id()]
    paths: dict[str, Any] = {
        "/api/health": {
            "get": _op(
                "Health of every service, and the ingestion lag and quarantine",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string", "enum": ["up", "degraded"]},
                                "services": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "name": {"type": "string"},
                                            "status": {
                                                "type": "string",
                                                "enum": ["up", "degraded", "down"],
                                            },
                                            "detail": {"type": "string"},
                                        },
                                    },
                                },
                                "ingestion": {
                                    "type": "object",
                                    "description": "the reader store's copy of the tracker "
                                    "store; figures are null when they cannot be read",
                                    "properties": {
                                        "status": {
                                            "type": "string",
                                            "enum": ["up", "degraded", "down"],
                                        },
                                        "detail": {"type": "string"},
                                        "events_behind": {"type": "integer", "nullable": True},
                                        "seconds_behind": {"type": "number", "nullable": True},
                                        "quarantined": {"type": "integer", "nullable": True},
                                        "last_quarantined_at": {
                                            "type": "string",
                                            "format": "date-time",
                                            "nullable": True,
                                        },
                                        "tracker_position": {"type": "integer", "nullable": True},
                                        "store_position": {"type": "integer", "nullable": True},
                                        "degraded_after_events": {"type": "integer"},
                                        "degraded_after_seconds": {"type": "number"},
                                    },
                                },
                            },
                        }
                    )
                },
                public=True,
                tag="system",
            )
        },
        "/api/openapi.json": {
            "get": _op(
                "This document", {"200": _json({"type": "object"})}, public=True, tag="system"
            )
        },
        "/api/auth/login": {
            "post": _op(
                "Sign in; sets the ric_session cookie and returns the CSRF token",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "user": _ref("Me"),
                                "csrf_token": {"type": "string"},
                            },
                        }
                    ),
                    "401": _error("Wrong user name or password"),
                    "429": _error(
                        "rate_limited: this user name must wait before trying again from this "
                        "address (retry_after seconds, also in Retry-After)"
                    ),
                },
                body=_body(
                    {"username": {"type": "string"}, "password": {"type": "string"}},
                    ["username", "password"],
                ),
                public=True,
                tag="auth",
            )
        },
        "/api/auth/logout": {
            "post": _op(
                "Sign out (ends the session)", {"200": _json({"type": "object"})}, tag="auth"
            )
        },
        "/api/me": {
            "get": _op("The signed-in staff member", {"200": _json(_ref("Me"))}, tag="auth")
        },
        "/api/tokens": {
            "post": _op(
                "Issue an API token (shown once)",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "name": {"type": "string"},
                                "token": {"type": "string"},
                            },
                        }
                    )
                },
                body=_body({"name": {"type": "string"}}, ["name"]),
                tag="auth",
            )
        },
        "/api/tokens/{id}": {
            "delete": _op(
                "Revoke an API token",
                {"200": _json({"type": "object"}), "404": _error("No such token")},
                parameters=[_path_id()],
                tag="auth",
            )
        },
        "/api/login-throttles": {
            "get": _op(
                "Login throttles (admins): each (user name, address) pair with failed logins "
                "that count, its failures and how long it must still wait",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": THROTTLE}},
                        }
                    ),
                    "403": _error("Admins only"),
                },
                tag="auth",
            )
        },
        "/api/login-throttles/clear": {
            "post": _op(
                "Lift a user name's login throttle (admins), from one address or from every "
                "address; audited as login_throttle.clear",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "username": {"type": "string"},
                                "address": NULLABLE_STR,
                                "failures_removed": {"type": "integer"},
                                "audit_id": {"type": "integer"},
                            },
                        }
                    ),
                    "400": _error("bad_request"),
                    "403": _error("Admins only"),
                },
                body=_body(
                    {
                        "username": {"type": "string", "minLength": 1, "maxLength": 80},
                        "address": {**NULLABLE_STR, "maxLength": 64},
                    },
                    ["username"],
                ),
                tag="auth",
            )
        },
        "/api/queue": {
            "get": _op(
                "Waiting and claimed handoffs, oldest first", {"200": _json(_items("QueueItem"))}
            )
        },
        "/api/presence": {
            "post": _op(
                "Mark yourself online or away",
                {"200": _json({"type": "object"}), "400": _error("Bad presence")},
                body=_body(
                    {"presence": {"type": "string", "enum": ["online", "away"]}}, ["presence"]
                ),
            )
        },
        "/api/staff": {
            "get": _op("Staff with presence, load and capacity", {"200": _json(_items("Staff"))})
        },
        "/api/conversations/{id}": {
            "get": _op(
                "A conversation with messages, notes and the reader's profile",
                {"200": _json(_ref("Conversation")), "404": _error("No such conversation")},
                parameters=conversation,
            )
        },
        "/api/conversations/{id}/claim": {
            "post": _op(
                "Claim the conversation",
                {
                    "200": _json(_ref("HandoffReply")),
                    "409": CONFLICT,
                    "404": _error("No such conversation"),
                },
                parameters=conversation,
            )
        },
        "/api/conversations/{id}/messages": {
            "post": _op(
                "Send a message to the reader through Rasa",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "status": {"type": "string", "enum": ["sent"]},
                            },
                        }
                    ),
                    "400": _error("empty_text or text_too_long"),
                    "409": CONFLICT,
                    "502": _error("rasa_unreachable: saved as pending (id, status) and retried"),
                },
                body=TEXT_BODY,
                parameters=conversation,
            )
        },
        "/api/conversations/{id}/notes": {
            "post": _op(
                "Add an internal note",
                {"201": _json(_ref("Note")), "400": _error("Empty note")},
                body=_body({"body": {"type": "string"}}, ["body"]),
                parameters=conversation,
            )
        },
        "/api/conversations/{id}/transfer": {
            "post": _op(
                "Transfer to a colleague or back to the queue",
                {"200": _json(_ref("HandoffReply")), "409": CONFLICT},
                body=_body(
                    {
                        "to_user_id": {**ID, "nullable": True},
                        "department": NULLABLE_STR,
                        "note": {"type": "string"},
                    }
                ),
                parameters=conversation,
            )
        },
        "/api/conversations/{id}/resolve": {
            "post": _op(
                "Resolve the handoff and give the conversation back to the bot",
                {
                    "200": _json(_ref("HandoffReply")),
                    "409": CONFLICT,
                    "502": _error("rasa_unreachable: nothing changed"),
                },
                body=_body(
                    {
                        "note": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                    }
                ),
                parameters=conversation,
            )
        },
        "/api/conversations/{id}/reopen": {
            "post": _op(
                "Reopen a resolved conversation; you hold it and the bot pauses",
                {
                    "200": _json(_ref("HandoffReply")),
                    "409": _error("not_resolved, already_open or at_capacity"),
                    "502": _error("rasa_unreachable"),
                },
                parameters=conversation,
            )
        },
        "/api/tickets": {
            "get": _op(
                "Tickets, newest first",
                {"200": _json(_items("Ticket")), "400": _error("bad_status")},
                parameters=[
                    _query(
                        "status", {"type": "string", "enum": ["new", "open", "pending", "closed"]}
                    )
                ],
            )
        },
        "/api/tickets/{id}": {
            "patch": _op(
                "Change a ticket's status",
                {"200": _json(_ref("Ticket")), "400": _error("bad_status")},
                body=_body(
                    {"status": {"type": "string", "enum": ["new", "open", "pending", "closed"]}},
                    ["status"],
                ),
                parameters=[_path_id()],
            )
        },
        "/api/tickets/{id}/reply": {
            "post": _op(
                "Reply on the reader's chat, or queue an email; the ticket becomes pending",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "status": {
                                    "type": "string",
                                    "enum": ["sent", "pending", "pending_email"],
                                },
                                "delivery": {"type": "string", "enum": ["chat", "email_queued"]},
                            },
                        }
                    ),
                    "409": _error("no_contact or unreachable_contact"),
                },
                body=TEXT_BODY,
                parameters=[_path_id()],
            )
        },
        "/api/canned-responses": {
            "get": _op(
                "Search canned responses",
                {"200": _json(_items("CannedResponse"))},
                parameters=[_query("q", {"type": "string"}, "matches title, body or shortcut")],
            ),
            "post": _op(
                "Add a canned response",
                {"201": _json(_ref("CannedResponse")), "409": _error("duplicate_shortcut")},
                body=_body(
                    {
                        "title": {"type": "string"},
                        "body": {"type": "string"},
                        "shortcut": NULLABLE_STR,
                    },
                    ["title", "body"],
                ),
            ),
        },
        "/api/canned-responses/{id}/render": {
            "get": _op(
                "Fill {reader_name}, {librarian_name} and {library_name}",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"id": {"type": "integer"}, "text": {"type": "string"}},
                        }
                    )
                },
                parameters=[_path_id(), _query("conversation_id", ID)],
            )
        },
        "/api/events": {
            "get": _op(
                "Server-Sent Events: `queue` (data as GET /api/queue) when the queue changes, "
                "`message` (data {conversation_id, message}) for each new message in a "
                "conversation in handoff; a comment heartbeat every 15 s",
                {
                    "200": {
                        "description": "An event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    }
                },
            )
        },
    }
    paths.update(_reader_paths())
    paths.update(_worker_paths())
    paths.update(_analytics_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Reader Interaction Center console API",
            "version": "1.0",
            "description": 'Every error is JSON {"error": code, "message": text}. '
            "Authenticate with the ric_session cookie (plus X-CSRF-Token on unsafe "
            "methods) or Authorization: Bearer <token>.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "ric_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"session": []}, {"bearer": []}],
        "paths": paths,
    }


@bp.get("/api/openapi.json")
async def openapi(_: Request) -> HTTPResponse:
    """The OpenAPI document."""
    return response.json(build_document())
