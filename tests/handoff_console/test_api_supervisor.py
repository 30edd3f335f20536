"""The supervisor view's API (``GET /api/supervisor``): roles and figures."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm_store.models import Handoff, HandoffStatus

pytestmark = pytest.mark.workspace


def waiting_in_store(console_store) -> int:
    with console_store.sessions.begin() as session:
        return int(
            session.execute(
                select(func.count(Handoff.id)).where(Handoff.status == HandoffStatus.WAITING)
            ).scalar_one()
        )


@pytest.mark.parametrize(("who", "status"), [("anon", 401), ("sam", 403), ("maria", 403)])
def test_librarians_may_not_see_the_supervisor_view(api_clients, who, status):
    reply = api_clients[who].get("/api/supervisor")
    assert reply.status == status


@pytest.mark.parametrize("who", ["morgan", "alex"])
def test_managers_and_admins_see_presence_load_and_the_queue(
    api_clients, api_handoff, console_store, who
):
    claimed = api_handoff("please help")
    api_handoff("still waiting")
    assert api_clients["maria"].post(f"/api/conversations/{claimed}/claim").status == 200
    assert api_clients["maria"].post("/api/presence", {"presence": "online"}).status == 200
    assert api_clients["sam"].post("/api/presence", {"presence": "away"}).status == 200

    reply = api_clients[who].get("/api/supervisor")
    assert reply.status == 200
    body = reply.json()
    queue = body["queue"]
    assert queue["waiting"] == waiting_in_store(console_store)
    assert queue["waiting"] >= 1
    assert isinstance(queue["oldest_waiting_seconds"], int)
    staff = {person["name"]: person for person in body["staff"]}
    maria = staff["Maria Lopez"]
    assert maria["presence"] == "online"
    assert claimed in maria["conversations"]
    assert maria["load"] == len(maria["conversations"])
    assert staff["Sam Reyes"]["presence"] == "away"
    assert claimed not in staff["Sam Reyes"]["conversations"]
    assert queue["online"] == sum(1 for p in body["staff"] if p["presence"] == "online")
    # online staff are listed first
    presences = [p["presence"] for p in body["staff"]]
    assert presences == sorted(presences, key=lambda p: p != "online")
