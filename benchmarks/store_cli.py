"""What the benchmarks on the generated reader store share: its options and its SQLite file.

``benchmarks/nightly_analysis.py`` generates the store (``generate``); it and the
benchmarks built on it (``dashboard_readers``, ``nlu_inbox``) take the store's size and
seed from the same options, and load it into a freshly migrated SQLite file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crm_store.migrate import upgrade

__all__ = ["migrated_sqlite", "store_parser"]


def store_parser(doc: str | None, *, seed: int = 42) -> argparse.ArgumentParser:
    """An argument parser with the generated store's options.

    Args:
        doc: The benchmark's module docstring; its first line describes the command.
        seed: The default of ``--seed``.

    Returns:
        A parser with ``--messages`` (1,000,000), ``--readers`` (100,000),
        ``--span-days`` (400) and ``--seed``; the benchmark adds its own options.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--span-days", type=int, default=400)
    parser.add_argument("--seed", type=int, default=seed)
    return parser


def migrated_sqlite(path: Path) -> str:
    """Create the reader store's schema (every Alembic migration) in the SQLite file ``path``.

    Returns:
        The file's SQLAlchemy URL; bulk-load it with ``store_load.load_sqlite``.
    """
    url = f"sqlite:///{path}"
    upgrade(url)
    return url
