"""The Readers tab's API on a real console process and SQLite store: roles, pseudonyms,
the audited reveal of names, and every table as CSV and XLSX (parsed back)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm_store.models import AuditEntry
from tests.dashboard.readers_history import NAMES, build_history
from tests.handoff_console.conftest import (  # noqa: F401 (fixtures)
    ApiClient,
    ConsoleStore,
    api_clients,
    console,
    console_store,
)

pytestmark = pytest.mark.dashboard

BASE = "/api/dashboard/readers/"
TABLES = ["acquisition", "first-intents", "cohorts", "churn", "loyalty", "key"]


@pytest.fixture(scope="module")
def history(console_store: ConsoleStore) -> dict[str, int]:  # noqa: F811
    return build_history(console_store.sessions, datetime.now(timezone.utc))


def _audits(store: ConsoleStore) -> list[AuditEntry]:
    with store.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == "dashboard.reveal_names")
        return list(session.execute(query.order_by(AuditEntry.id)).scalars())


@pytest.mark.parametrize("table", TABLES)
def test_librarians_get_403_and_strangers_401(
    api_clients: dict[str, ApiClient],  # noqa: F811
    history: dict[str, int],
    table: str,
) -> None:
    assert api_clients["sam"].get(BASE + table).status == 403
    assert api_clients["sam"].get(BASE + table + "?format=csv").status == 403
    assert api_clients["anon"].get(BASE + table).status == 401
    assert api_clients["alex"].get(BASE + table).status == 200


def test_pages_are_for_managers_and_admins(api_clients: dict[str, ApiClient]) -> None:  # noqa: F811
    assert api_clients["morgan"].get("/dashboard/readers").status == 200
    assert api_clients["sam"].get("/dashboard/readers").status == 403


def test_churn_is_pseudonymous_by_default(
    api_clients: dict[str, ApiClient],  # noqa: F811
    console_store: ConsoleStore,  # noqa: F811
    history: dict[str, int],
) -> None:
    before = len(_audits(console_store))
    reply = api_clients["morgan"].get(BASE + "churn")

    assert reply.status == 200
    body = reply.json()
    assert body["names"] is False
    assert [(i["score"], i["name"]) for i in body["items"]] == [(53, None), (38, None)]
    assert [i["profile"] for i in body["items"]] == [
        f"/readers/{history['cleo']}",
        f"/readers/{history['eve']}",
    ]
    assert all(i["pseudonym"].startswith("R-") for i in body["items"])
    assert "Cleo" not in reply.text and "example.org" not in reply.text
    assert len(_audits(console_store)) == before


def test_names_on_request_are_audited(
    api_clients: dict[str, ApiClient],  # noqa: F811
    console_store: ConsoleStore,  # noqa: F811
    history: dict[str, int],
) -> None:
    plain = api_clients["morgan"].get(BASE + "churn").json()
    reply = api_clients["morgan"].get(BASE + "churn?names=true")

    body = reply.json()
    assert body["names"] is True
    assert [i["name"] for i in body["items"]] == [NAMES["cleo"], NAMES["eve"]]
    assert [i["pseudonym"] for i in body["items"]] == [i["pseudonym"] for i in plain["items"]]
    entry = _audits(console_store)[-1]
    assert (entry.subject, entry.detail) == (
        "dashboard:readers/churn",
        {"readers": 2, "format": "json"},
    )


def test_key_readers_list_rules_and_segments(
    api_clients: dict[str, ApiClient],  # noqa: F811
    history: dict[str, int],
) -> None:
    body = api_clients["morgan"].get(BASE + "key").json()

    assert body["segments"] == {"key": 1, "loyal": 1, "new": 1, "at_risk": 0, "occasional": 2}
    assert body["rules"]["key_score"] == 8
    [ada] = body["items"]
    assert (ada["profile"], ada["score"], ada["loans"], ada["name"]) == (
        f"/readers/{history['ada']}", 9, 3, None,
    )  # fmt: skip
    everyone = api_clients["morgan"].get(BASE + "key?segment=all").json()
    assert len(everyone["items"]) == 5
    assert api_clients["morgan"].get(BASE + "key?segment=vip").json()["error"] == "bad_segment"


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("cohorts?months=0", "bad_months"),
        ("cohorts?months=abc", "bad_months"),
        ("churn?names=maybe", "bad_flag"),
        ("churn?limit=0", "bad_limit"),
        ("key?limit=5001", "bad_limit"),
        ("loyalty?format=pdf", "bad_format"),
    ],
)
def test_bad_input_is_a_clear_400(
    api_clients: dict[str, ApiClient],  # noqa: F811
    query: str,
    error: str,
) -> None:
    reply = api_clients["morgan"].get(BASE + query)
    assert (reply.status, reply.json()["error"]) == (400, error)


def _csv(reply: Any) -> list[list[str]]:
    assert reply.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(reply.text)))


def _xlsx(reply: Any) -> list[list[Any]]:
    assert reply.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(reply.body)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("table", TABLES)
def test_every_table_exports_as_csv_and_xlsx_without_names(
    api_clients: dict[str, ApiClient],  # noqa: F811
    history: dict[str, int],
    table: str,
) -> None:
    morgan = api_clients["morgan"]
    rows = _csv(morgan.get(BASE + table + "?format=csv"))
    sheet = _xlsx(morgan.get(BASE + table + "?format=xlsx"))

    assert rows[0] == [str(c) for c in sheet[0]]
    assert len(rows) == len(sheet) > 1
    text = "\n".join(",".join(r) for r in rows)
    for name in NAMES.values():
        assert name.split()[0] not in text
    assert "example.org" not in text
    disposition = morgan.get(BASE + table + "?format=csv").headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and "with-names" not in disposition


def test_exported_key_readers_match_the_json(
    api_clients: dict[str, ApiClient],  # noqa: F811
    console_store: ConsoleStore,  # noqa: F811
    history: dict[str, int],
) -> None:
    morgan = api_clients["morgan"]
    body = morgan.get(BASE + "key?segment=all").json()
    sheet = _xlsx(morgan.get(BASE + "key?segment=all&format=xlsx&names=true"))

    assert sheet[0][:4] == ["Reader", "Name", "Segment", "Score"]
    assert [(r[0], r[2], r[3]) for r in sheet[1:]] == [
        (i["pseudonym"], i["segment"], i["score"]) for i in body["items"]
    ]
    assert NAMES["ada"] in [r[1] for r in sheet[1:]]
    entry = _audits(console_store)[-1]
    assert (entry.subject, entry.detail) == (
        "dashboard:readers/key/all",
        {"readers": 5, "format": "xlsx"},
    )
    reply = morgan.get(BASE + "key?segment=all&format=csv&names=true")
    assert "key-readers" not in reply.headers["Content-Disposition"]
    assert "readers-all-with-names-" in reply.headers["Content-Disposition"]


def test_a_reader_name_is_exported_as_text(
    api_clients: dict[str, ApiClient],  # noqa: F811
    history: dict[str, int],
) -> None:
    rows = _csv(api_clients["morgan"].get(BASE + "churn?format=csv&names=true"))
    assert rows[0] == ["Reader", "Name", "Risk score", "Last active", "Conversations", "Factors"]
    assert [r[1] for r in rows[1:]] == [NAMES["cleo"], NAMES["eve"]]
    assert rows[1][5] == "quiet for 74 days (+33); latest rating 2 of 5 (+20)"


def test_lists_are_capped_for_the_page_but_not_for_files(
    api_clients: dict[str, ApiClient],  # noqa: F811
    history: dict[str, int],
) -> None:
    body = api_clients["morgan"].get(BASE + "churn?limit=1").json()
    assert (body["total"], [i["score"] for i in body["items"]]) == (2, [53])
    rows = _csv(api_clients["morgan"].get(BASE + "churn?limit=1&format=csv"))
    assert len(rows) == 3  # the header and both readers
