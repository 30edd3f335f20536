"""CSV and XLSX exports of the dashboard's tables: one helper for every table (issue 17).

The convention every dashboard endpoint follows (overview, charts, readers, report):

1. A JSON endpoint that answers a table also answers it as a file when asked with
   ``?format=csv`` or ``?format=xlsx`` (``?format=json``, or no ``format``, is the JSON
   reply). Declare the parameter and the file media types in the route's `Operation`
   with :data:`FORMAT_QUERY` and :data:`FILE_MEDIA`::

       OP = api.Operation("…", ok=Reply, roles=ROLES, tag="dashboard",
                          query=(*FILTERS, exports.FORMAT_QUERY),
                          also=exports.FILE_MEDIA, errors={400: "bad_format …"})

2. The handler builds its data once, then::

       output = exports.requested_format(request)      # "json", "csv" or "xlsx"; 400 else
       if output != "json":
           return exports.export_response(exports.Table("new-readers", columns, rows), output)
       return response.json(payload)

   or, in one call, ``exports.respond(request, table_of(data), payload)``.
   A page with several tables may instead give each one its own
   ``GET /api/dashboard/<area>/<table>/export?format=csv|xlsx`` route; it uses
   :func:`export_response` the same way.

3. :class:`Table` is plain data: column headings and rows of cells (str, int, float,
   bool, date, datetime, Decimal or None). The file is named
   ``<name>-<YYYY-MM-DD>.<csv|xlsx>`` (the day the export was made, UTC).

Personal data: a table carries only what its builder puts in it. Dashboard tables are
pseudonymous (reader pseudonyms, never names or addresses) unless the manager explicitly
asked for names (``?names=true``), and the endpoint audits that request before it
builds the table (``crm_store.audit``); set ``personal=True`` on such a table so the
file name says ``-with-names``.

Cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are
exported as text with a leading apostrophe, so a reader's message can never become a
spreadsheet formula (CSV injection); numbers stay numbers. In XLSX every string cell is
written as a string, never as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.services.errors import BadRequest

__all__ = [
    "CSV_MEDIA",
    "FILE_MEDIA",
    "FORMATS",
    "FORMAT_QUERY",
    "XLSX_MEDIA",
    "Cell",
    "Table",
    "export_response",
    "requested_format",
    "respond",
    "safe_text",
    "table_csv",
    "table_xlsx",
]

Cell = str | int | float | bool | date | datetime | Decimal | None
"""One value of a table."""

FORMATS = ("json", "csv", "xlsx")
"""The values ``?format=`` accepts (``json`` is the default)."""
CSV_MEDIA = "text/csv; charset=utf-8"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_MEDIA: dict[str, dict[str, Any]] = {
    "text/csv": {"type": "string"},
    XLSX_MEDIA: {"type": "string", "format": "binary"},
}
"""The extra media types of an exportable route, for its `Operation`'s ``also``."""
FORMAT_QUERY = api.Query(
    "format",
    {"type": "string", "enum": list(FORMATS)},
    "`csv` or `xlsx` returns the table as a file; `json` (default) the JSON reply",
)
"""The ``format`` query parameter of an exportable route."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_MAX = 31
_WIDTH_MAX = 60


@dataclass(frozen=True)
class Table:
    """A table to export: a file-name stem, column headings and rows of cells.

    Attributes:
        name: The file name's stem, e.g. ``key-readers`` (letters, digits and ``-``).
        columns: The column headings, in order.
        rows: One sequence of cells per row, as long as ``columns``.
        personal: True when the rows hold names or addresses (the manager asked for
            them, audited); the file name then ends in ``-with-names``.
    """

    name: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]] = field(default_factory=list)
    personal: bool = False

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c == "-" for c in self.name):
            raise ValueError(f"bad table name {self.name!r}: letters, digits and - only")
        width = len(self.columns)
        for number, row in enumerate(self.rows, start=1):
            if len(row) != width:
                raise ValueError(f"row {number} of {self.name} has {len(row)} cells, not {width}")

    def filename(self, output: str, today: date | None = None) -> str:
        """``<name>[-with-names]-<YYYY-MM-DD>.<output>``."""
        day = today or datetime.now(timezone.utc).date()
        suffix = "-with-names" if self.personal else ""
        return f"{self.name}{suffix}-{day.isoformat()}.{output}"


def safe_text(value: str) -> str:
    """``value``, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_cell(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return safe_text(str(value))


def table_csv(table: Table) -> str:
    """The table as CSV text (a header row, then the rows; RFC 4180 quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return buffer.getvalue()


def _xlsx_cell(value: Cell) -> Any:
    # openpyxl refuses timezone-aware datetimes; the dashboard's are all UTC.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, str):
        return safe_text(value)
    return value


def table_xlsx(table: Table) -> bytes:
    """The table as an XLSX workbook of one sheet (bold header row, frozen, sized columns)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.name[:_SHEET_TITLE_MAX]
    sheet.append([safe_text(c) for c in table.columns])
    for row in table.rows:
        sheet.append([_xlsx_cell(cell) for cell in row])
    widths = [len(c) for c in table.columns]
    for row_cells in sheet.iter_rows(min_row=1):
        for index, cell in enumerate(row_cells):
            if isinstance(cell.value, str):
                # A string that looks like a formula stays text (see safe_text).
                cell.data_type = TYPE_STRING
                widths[index] = max(widths[index], len(cell.value))
            if cell.row == 1:
                cell.font = Font(bold=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, _WIDTH_MAX)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def requested_format(request: Request) -> str:
    """The request's ``?format=``: ``json`` (default), ``csv`` or ``xlsx``.

    Raises:
        BadRequest: ``bad_format`` for any other value.
    """
    output = (request.args.get("format") or "json").lower()
    if output not in FORMATS:
        raise BadRequest("bad_format", "format must be json, csv or xlsx.")
    return output


def export_response(table: Table, output: str) -> HTTPResponse:
    """The table as a downloadable ``csv`` or ``xlsx`` file.

    Raises:
        BadRequest: ``bad_format`` when ``output`` is neither.
    """
    disposition = {"Content-Disposition": f'attachment; filename="{table.filename(output)}"'}
    if output == "csv":
        return response.text(table_csv(table), content_type=CSV_MEDIA, headers=disposition)
    if output == "xlsx":
        return response.raw(table_xlsx(table), content_type=XLSX_MEDIA, headers=disposition)
    raise BadRequest("bad_format", "format must be csv or xlsx.")


def respond(request: Request, table: Table, payload: Any) -> HTTPResponse:
    """The JSON ``payload``, or ``table`` as a file when the request asks for csv or xlsx."""
    output = requested_format(request)
    if output == "json":
        return response.json(payload)
    return export_response(table, output)
