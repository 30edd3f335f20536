"""The dashboard's export helper: a table as CSV and XLSX, parsed back."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from handoff_console.dashboard.exports import Table, safe_text, table_csv, table_xlsx

pytestmark = pytest.mark.dashboard

TABLE = Table(
    "key-readers",
    ["Reader", "Contacts", "Score", "First contact", "Active", "Note"],
    [
        ["R-1a2b", 12, 0.75, date(2026, 3, 1), True, '=HYPERLINK("http://x")'],
        [
            "R-9f8e",
            3,
            Decimal("0.5"),
            datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc),
            False,
            None,
        ],
    ],
)


def test_csv_round_trip_keeps_values_and_neutralises_formulas() -> None:
    rows = list(csv.reader(io.StringIO(table_csv(TABLE))))

    assert rows == [
        ["Reader", "Contacts", "Score", "First contact", "Active", "Note"],
        ["R-1a2b", "12", "0.75", "2026-03-01", "true", '\'=HYPERLINK("http://x")'],
        ["R-9f8e", "3", "0.5", "2026-03-02T09:30:00+00:00", "false", ""],
    ]


def _naive(*parts: int) -> datetime:
    """A UTC time as XLSX stores it (no zone)."""
    return datetime(*parts, tzinfo=timezone.utc).replace(tzinfo=None)


def test_xlsx_round_trip_keeps_types_and_writes_no_formula() -> None:
    sheet = load_workbook(io.BytesIO(table_xlsx(TABLE))).active

    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert sheet.title == "key-readers"
    assert values[0] == ["Reader", "Contacts", "Score", "First contact", "Active", "Note"]
    assert values[1] == [
        "R-1a2b",
        12,
        0.75,
        _naive(2026, 3, 1),
        True,
        '\'=HYPERLINK("http://x")',
    ]
    assert values[2] == ["R-9f8e", 3, 0.5, _naive(2026, 3, 2, 9, 30), False, None]
    assert sheet["F2"].data_type == "s"
    assert sheet["A1"].font.bold is True
    assert sheet.freeze_panes == "A2"


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="row 1 of t has 1 cells, not 2"):
        Table("t", ["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="bad table name"):
        Table("../etc", ["a"])


def test_file_names_say_when_names_are_in() -> None:
    day = date(2026, 12, 6)
    assert TABLE.filename("csv", day) == "key-readers-2026-12-06.csv"
    personal = Table("key-readers", ["Name"], [["Ada"]], personal=True)
    assert personal.filename("xlsx", day) == "key-readers-with-names-2026-12-06.xlsx"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-1", "'-1"), ("+44 20", "'+44 20"), ("@sum", "'@sum"), ("plain", "plain"), ("", "")],
)
def test_safe_text(text: str, expected: str) -> None:
    assert safe_text(text) == expected
