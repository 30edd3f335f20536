"""The overview, chart and drill-down read models on SQLite and PostgreSQL.

The API tests run the console on SQLite; these run the same queries on both databases
(the hand-built day of ``tests/dashboard/rollup_data.py``, rolled up in UTC).
"""

from __future__ import annotations

from datetime import timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from handoff_console.dashboard.charts import CHARTS, chart
from handoff_console.dashboard.drill import drill
from handoff_console.dashboard.filters import Filters, filter_options
from handoff_console.dashboard.overview import overview
from tests.dashboard.overview_day import day_figures
from tests.dashboard.rollup_data import DAY, HOURS, at, build_day
from worker.jobs.rollups import refresh_recent

pytestmark = pytest.mark.dashboard


def test_figures_charts_and_drill_on_each_database(sessions: sessionmaker[Session]) -> None:
    ids = build_day(sessions)
    refresh_recent(sessions, at(12, days=2), timezone.utc, HOURS, 3)
    day = Filters(DAY, DAY)
    with sessions.begin() as session:
        body = overview(session, day, timezone.utc, filter_options)
        values = {f["key"]: f["value"] for f in body["figures"]}
        assert values == day_figures(open_tickets=0)
        assert body["options"]["branch"] == ["central", "unknown"]
        faq = overview(session, Filters(DAY, DAY, intent="faq"), timezone.utc)
        assert faq["figures"][0]["value"] == 1
        tables = {name: chart(session, name, day) for name in CHARTS}
        assert tables["handoff-reasons"].rows == [["asked for a person", 1]]
        assert tables["workload"].rows == [["Sam Reyes", 1, 600.0, 1.0, 1]]
        assert tables["faq"].rows == [["parking", 1, 0.0]]
        assert sum(row[2] for row in tables["heatmap"].rows) == 5
        assert tables["clusters"].rows == []  # no nightly analysis has run
        handed = drill(session, day, {"figure": "handoff"})
        assert [i["conversation_id"] for i in handed["items"]] == [ids["slack-c"]]
        monday = drill(session, Filters(DAY, DAY, channel="telegram"), {"weekday": 0})
        assert monday["total"] == 2
