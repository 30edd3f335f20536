"""No demo PIN and no full card number in any log, and no PIN in any database.

Runs on the session's ``system`` (tests/system.py), late in a full run, so its logs and
stores hold whatever the whole suite did there; the module adds sign-ins of its own
(card and PIN in one message, the PIN alone after the bot asks, a wrong PIN) so that a
run of this file alone is realistic too. Every file under ``var/log/`` (rotated ones
included) and every text column of every table of the reader store and the tracker
store is searched for the demo PINs and card numbers of ``library/ils/README.md``.

Full card numbers may be stored in one place only: the reader's record
(``readers.card_number``). The tracker store's ``card_number`` slot holds the card
sealed (``crm_store/card_seal.py``); the masking of everything else a reader typed is
issue 18's data-rights part (``crm_store/redaction.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aio import run as run_async
from tests.system import ROOT, RunningSystem
from tests.trust.store_text import text_values
from tests.webchat_client import WidgetClient, bot_texts

pytestmark = [pytest.mark.trust, pytest.mark.rasa]

_ROW = re.compile(r"^\|\s*(\d{14})\s*\|[^|]*\|\s*(\d{4})\s*\|", re.MULTILINE)
DEMO = dict(_ROW.findall((ROOT / "library" / "ils" / "README.md").read_text()))
"""card number → PIN of every demo reader."""


def _pattern(values: list[str]) -> re.Pattern[str]:
    # Not part of a longer token: a PIN inside "ab4821cd", "0.1357", a path, a uuid group
    # or a "[pid]" is not one; "pin:4821", "pin 4821." or '"4821"' is.
    alternatives = "|".join(sorted(values))
    return re.compile(rf"(?<![\w/\[-])(?<!\d\.)(?:{alternatives})(?![\w\]-])(?!\.\d)")


PINS = _pattern(list(DEMO.values()))
CARDS = _pattern(list(DEMO))


def _log_hits(var_dir: Path, pattern: re.Pattern[str]) -> list[str]:
    hits = []
    for path in sorted((var_dir / "log").rglob("*")):
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.name}:{number}: {line[:200]}")
    return hits


def _store_hits(database: Path, pattern: re.Pattern[str]) -> dict[tuple[str, str, str], int]:
    """(database, table, column) → rows whose value matches ``pattern``."""
    found: dict[tuple[str, str, str], int] = {}
    for table, column, text in text_values(database):
        if pattern.search(text):
            key = (database.name, table, column)
            found[key] = found.get(key, 0) + 1
    return found


@pytest.fixture(scope="module")
def signed_in(system: RunningSystem) -> Iterator[RunningSystem]:
    """The system after readers signed in with their card and PIN through the widget."""
    (ada_card, ada_pin), (mei_card, mei_pin) = list(DEMO.items())[0], list(DEMO.items())[2]

    async def scenario() -> list[str]:
        texts = []
        one = await WidgetClient(system.ws_url).connect()
        texts += bot_texts(await one.say("what books do i have out"))
        texts += bot_texts(await one.say(f"card is {ada_card}, pin {ada_pin}"))
        two = await WidgetClient(system.ws_url).connect()
        texts += bot_texts(await two.say("check my fines"))
        texts += bot_texts(await two.say(mei_card))
        texts += bot_texts(await two.say("0000"))  # a wrong PIN
        texts += bot_texts(await two.say(mei_pin))
        for client in (one, two):
            await client.close()
        return texts

    texts = run_async(scenario())
    assert any("signed in" in text for text in texts), texts
    time.sleep(3)  # the worker copies the tracker store every 100 ms; let it finish
    yield system


def test_no_demo_pin_or_card_number_in_any_log(signed_in: RunningSystem) -> None:
    assert len(DEMO) >= 7
    assert _log_hits(signed_in.var_dir, PINS) == []
    assert _log_hits(signed_in.var_dir, CARDS) == []


def test_no_demo_pin_in_the_reader_store_or_the_tracker_store(signed_in: RunningSystem) -> None:
    for name in ("crm.db", "tracker.db"):
        assert _store_hits(signed_in.var_dir / name, PINS) == {}


def test_full_card_numbers_are_stored_only_in_the_readers_record(
    signed_in: RunningSystem,
) -> None:
    found = {}
    for name in ("crm.db", "tracker.db"):
        found.update(_store_hits(signed_in.var_dir / name, CARDS))
    print(f"\nfull card numbers in the stores: {found}")
    assert set(found) == {("crm.db", "readers", "card_number")}
