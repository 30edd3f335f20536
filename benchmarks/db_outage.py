"""The reader store's database goes away for a while: a cuttable TCP proxy (issue 18).

:class:`CuttableProxy` forwards a local port to PostgreSQL. ``cut()`` drops every open
connection and refuses new ones, as a crashed or unreachable database server does;
``restore()`` lets connections through again. :func:`outage_run` starts the system with
its reader store behind the proxy, keeps widget readers talking across an outage, and
reports whether the channels kept answering and whether the backlog was ingested.

Run: ``.venv/bin/python -m benchmarks.db_outage [--seconds 30] [--clients 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from benchmarks.soak import ONE_ADDRESS_LIMITS, Tally, drive, print_summary, wait_for_ingestion
from tests.aio import run as run_async
from tests.system import RunningSystem, start_system

POSTGRES = ("127.0.0.1", 5432)


class CuttableProxy:
    """A TCP forwarder on a free loopback port, in a thread of its own."""

    def __init__(self, target: tuple[str, int] = POSTGRES) -> None:
        self.target = target
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> CuttableProxy:
        """Start the loop and listen (on a port that stays the same across cuts)."""
        self._thread.start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.restore()
        return self

    def _call(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)  # type: ignore[arg-type]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accept connections again."""
        self._call(self._listen())

    def stop(self) -> None:
        """Cut and stop the thread."""
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)


@dataclass
class OutageReport:
    """What the readers saw during an outage and what the store held afterwards."""

    tally: Tally
    answered_during_outage: int
    missing: list[str]
    duplicated: list[str]
    ingest_lag_seconds: float
    wall: float


def fresh_schema(base_url: str, port: int) -> tuple[str, str]:
    """A new schema in the PostgreSQL database; its URL through the proxy, and its name."""
    schema = f"outage_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base_url, future=True)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    through = base_url.replace(f":{POSTGRES[1]}/", f":{port}/")
    return f"{through}?options={quote(f'-csearch_path={schema}')}", schema


def drop_schema(base_url: str, schema: str) -> None:
    """Drop a schema made by :func:`fresh_schema`."""
    engine = create_engine(base_url, future=True)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def outage_run(
    system: RunningSystem,
    proxy: CuttableProxy,
    store_url: str,
    clients: int,
    outage: float,
    before: float = 15.0,
    after: float = 20.0,
) -> OutageReport:
    """Readers talk for ``before`` s, through ``outage`` s with the store cut, then ``after``."""
    tally = Tally()

    async def run() -> tuple[float, int]:
        traffic = asyncio.create_task(drive(system.ws_url, clients, before + outage + after, tally))
        await asyncio.sleep(before)
        answered_at_cut = tally.answered
        await asyncio.to_thread(proxy.cut)
        await asyncio.sleep(outage)
        answered_during = tally.answered - answered_at_cut
        await asyncio.to_thread(proxy.restore)
        return await traffic, answered_during

    wall, during = run_async(run())
    restored = time.monotonic()
    stored = wait_for_ingestion(store_url, tally.sent)
    lag = time.monotonic() - restored
    missing = [sent for sent in tally.sent if not stored[sent]]
    duplicated = [sent for sent in tally.sent if stored[sent] > 1]
    return OutageReport(tally, during, missing, duplicated, lag, wall)


def main() -> None:
    """Start the system on PostgreSQL behind the proxy, cut it, print what happened."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the outage")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/test", help="the server"
    )
    args = parser.parse_args()
    proxy = CuttableProxy().start()
    store_url, schema = fresh_schema(args.postgres, proxy.port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**ONE_ADDRESS_LIMITS, "RIC_DATABASE_URL": store_url}
            system = start_system(Path(tmp) / "var", extra_env=env)
            try:
                report = outage_run(system, proxy, store_url, args.clients, args.seconds)
            finally:
                system.stop()
        print_summary(
            f"reader store down {args.seconds:g} s, {args.clients} clients",
            report.tally.summary(report.wall),
        )
        print(f"  answered while the store was down: {report.answered_during_outage}")
        print(f"  backlog ingested {report.ingest_lag_seconds:.1f} s after the store returned; "
              f"{len(report.missing)} missing, {len(report.duplicated)} stored twice")  # fmt: skip
    finally:
        proxy.stop()
        drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
