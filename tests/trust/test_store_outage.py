"""The reader store's database goes away mid-traffic and comes back (issue 18).

The system runs as ``./ric up`` runs it, with its reader store on PostgreSQL behind a
TCP proxy (``benchmarks.db_outage.CuttableProxy``). The proxy drops every connection and
refuses new ones for a while, as a crashed database server does. The widget must keep
answering (the conversation itself lives in Rasa's tracker store), and once the database
is back the worker must ingest the backlog: every reader message exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.db_outage import CuttableProxy, OutageReport, drop_schema, fresh_schema, outage_run
from benchmarks.soak import ONE_ADDRESS_LIMITS
from tests.conftest import POSTGRES_URL, _postgres_reachable, require_service
from tests.system import start_system

pytestmark = [pytest.mark.trust, pytest.mark.rasa, pytest.mark.postgres]

OUTAGE_SECONDS = 20.0


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutageReport]:
    """Readers talking before, during and after a cut of the reader store's database."""
    require_service("PostgreSQL", _postgres_reachable())
    proxy = CuttableProxy().start()
    store_url, schema = fresh_schema(POSTGRES_URL, proxy.port)
    env = {**ONE_ADDRESS_LIMITS, "RIC_DATABASE_URL": store_url}
    system = start_system(Path(tmp_path_factory.mktemp("outage")) / "var", extra_env=env)
    try:
        yield outage_run(system, proxy, store_url, 3, OUTAGE_SECONDS, before=10, after=15)
    finally:
        system.stop()
        proxy.stop()
        drop_schema(POSTGRES_URL, schema)


def test_the_widget_keeps_answering_while_the_store_is_down(report: OutageReport) -> None:
    assert report.answered_during_outage > 0
    assert report.tally.answered == len(report.tally.sent)
    assert not report.tally.errors


def test_the_backlog_is_ingested_exactly_once_when_it_returns(report: OutageReport) -> None:
    assert report.tally.sent
    assert report.missing == []
    assert report.duplicated == []
