"""Intent health on the real console: a small Rasa project with known weak spots."""

from __future__ import annotations

import http.client
import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.handoff_console.conftest import ConsoleStore, api_token_for
from tests.handoff_console.console_server import start_console
from tests.studio.editor_support import BOT, studio_env, studio_store
from tests.studio.inbox_data import bot, conversation, faq

pytestmark = pytest.mark.studio

NLU = """version: "3.1"
nlu:
  - intent: faq/wifi
    examples: |
      - do you have wifi
      - what is the wifi password please
      - how do i connect to the wifi
      - is there free internet
  - intent: faq/printing
    examples: |
      - can i print here
      - how much is printing
      - colour printing price
      - is there a printer at [central](branch)
  - intent: faq/parking
    examples: |
      - where can i park
  - intent: library_hours
    examples: |
      - when are you open
      - what time do you close
      - are you open on sunday
      - what's the wifi password?
      - Do you have WiFi!
"""


@pytest.fixture(scope="module")
def health(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    directory = tmp_path_factory.mktemp("health")
    project = directory / "bot"
    shutil.copytree(BOT / "domain", project / "domain")
    (project / "data" / "nlu").mkdir(parents=True)
    (project / "data" / "nlu" / "small.yml").write_text(NLU)
    registry = directory / "models"
    registry.mkdir()
    confusions = [
        {"truth": "faq/wifi", "predicted": "library_hours", "count": 3},
        {"truth": "faq/printing", "predicted": "faq/printing", "count": 9},
    ]
    manifest = {
        "number": 2, "created_at": "2026-12-06T12:00:00+00:00", "source": "studio",
        "data_hash": "x", "created_by": "Alex Kim", "note": "",
        "evaluation": {"cv": {"confusions": confusions}},
    }  # fmt: skip
    (registry / "v2.json").write_text(json.dumps(manifest))
    stores = studio_store(directory / "store")
    (directory / "store").mkdir()
    store: ConsoleStore = next(stores)
    conversation(store.sessions, "hit", [faq("wifi please", "wifi", 0.9), bot("Connect to…")])
    env = {
        **studio_env(project),
        "RIC_MODEL_REGISTRY": str(registry),
        "RIC_STUDIO_HEALTH_MIN_EXAMPLES": "3",
        "RIC_STUDIO_HEALTH_SIMILARITY": "0.8",
    }
    server = start_console(store.url, directory / "console.log", extra_env=env)
    try:
        token = api_token_for(store.sessions, "alex")
        auth = {"Authorization": f"Bearer {token}"}
        # The first report encodes every example in the background (202 until done).
        deadline = time.monotonic() + 600
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            connection.request("GET", "/api/studio/health", headers=auth)
            reply = connection.getresponse()
            body = reply.read()
            connection.close()
            if reply.status != 202 or time.monotonic() > deadline:
                break
            assert json.loads(body)["error"] == "computing"
            time.sleep(2)
        assert reply.status == 200, body
        yield json.loads(body)
    finally:
        server.stop()
        next(stores, None)


def test_counts_thin_labels_and_unused_topics(health: dict[str, Any]) -> None:
    assert (health["labels"], health["examples"]) == (4, 14)
    assert health["too_few"] == [{"label": "faq/parking", "examples": 1}]
    assert health["hits"] == {"faq/wifi": 1}
    assert health["never_hit"] == ["faq/parking", "faq/printing"]


def test_conflicts_ignore_case_and_punctuation(health: dict[str, Any]) -> None:
    assert health["conflicts"] == [
        {"text": "do you have wifi", "labels": ["faq/wifi", "library_hours"]}
    ]


def test_confusable_pairs_from_embeddings_and_the_models_confusions(
    health: dict[str, Any],
) -> None:
    pairs = {(p["first"], p["second"]): p for p in health["confusable"]}
    wifi = pairs[("faq/wifi", "library_hours")]
    assert wifi["pairs"] >= 2
    assert wifi["similarity"] >= 0.9
    assert ("faq/printing", "faq/wifi") not in pairs
    assert health["confusions_from"] == "v2"
    assert health["confusions"] == [{"truth": "faq/wifi", "predicted": "library_hours", "count": 3}]
