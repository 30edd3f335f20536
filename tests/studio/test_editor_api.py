"""The training-data editor's API against the real console and a copy of bot/ (issue 16).

One console serves the module, its studio editing a throw-away copy of the project's
``bot/`` (never ``bot/`` itself). Every save goes through Rasa's own validation, so
the tests keep the number of saves small.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from crm_store.models import AuditEntry
from tests.handoff_console.conftest import ApiClient, ConsoleStore, api_token_for
from tests.handoff_console.console_server import ConsoleServer
from tests.studio.editor_support import BOT, start_studio_console, studio_store, warm_studio

pytestmark = pytest.mark.studio

API = "/api/studio/training-data"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStore]:
    yield from studio_store(tmp_path_factory.mktemp("editor-api-store"))


@pytest.fixture(scope="module")
def studio(
    store: ConsoleStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ConsoleServer, Path]]:
    server, bot = start_studio_console(store, tmp_path_factory.mktemp("editor-api"))
    yield server, bot
    server.stop()


@pytest.fixture(scope="module")
def alex(studio: tuple[ConsoleServer, Path], store: ConsoleStore) -> ApiClient:
    token = api_token_for(store.sessions, "alex")
    warm_studio(studio[0], token)
    return ApiClient(studio[0], token)


def q(name: str) -> str:
    return quote(name, safe="")


def put(client: ApiClient, path: str, data: object) -> object:
    return client.call("PUT", path, data)


def test_overview_lists_intents_and_faq_topics_with_counts(alex: ApiClient) -> None:
    reply = alex.get(API)

    assert reply.status == 200
    body = reply.json()
    by_name = {item["name"]: item for item in body["intents"]}
    wifi = by_name["faq/wifi"]
    assert wifi["kind"] == "faq"
    assert wifi["files"] == ["data/nlu/faq_facilities.yml", "data/nlu/variety_faq.yml"]
    shipped = (BOT / "data/nlu/faq_facilities.yml").read_text() + (
        BOT / "data/nlu/variety_faq.yml"
    ).read_text()
    assert wifi["examples"] > 20
    assert by_name["greet"]["kind"] == "intent"
    assert "branch" in body["entities"]
    assert "  - intent: faq/wifi" in shipped


def test_add_an_annotated_example_writes_the_yaml_audits_and_refuses_a_stale_version(
    alex: ApiClient, studio: tuple[ConsoleServer, Path], store: ConsoleStore
) -> None:
    _, bot = studio
    before = alex.get(f"{API}/intent?name={q('faq/lockers')}").json()
    examples = [*before["examples"], {"text": "are there lockers at [riverside](branch)"}]

    saved = put(alex, f"{API}/intent?name={q('faq/lockers')}", {
        "version": before["version"], "examples": examples,
    })  # fmt: skip

    assert saved.status == 200, saved.text
    body = saved.json()
    first_file = before["examples"][0]["file"]  # a new example joins the intent's first file
    added = {"text": "are there lockers at [riverside](branch)", "file": first_file}
    assert added in body["examples"]
    assert len(body["examples"]) == len(before["examples"]) + 1
    assert body["version"] != before["version"]
    written = (bot / first_file).read_text()
    assert "      - are there lockers at [riverside](branch)\n" in written
    with store.sessions() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.subject == "intent:faq/lockers")
        ).scalar_one()
    assert entry.action == "studio.examples.set"
    assert entry.detail["by"] == "Alex Kim"

    stale = put(alex, f"{API}/intent?name={q('faq/lockers')}", {
        "version": before["version"], "examples": before["examples"],
    })  # fmt: skip

    assert stale.status == 409
    assert stale.json()["error"] == "version_conflict"
    assert "changed by Alex Kim" in stale.json()["message"]
    assert stale.json()["current_version"] == body["version"]


def test_an_example_under_another_topic_is_refused_with_rasas_reason(
    alex: ApiClient, studio: tuple[ConsoleServer, Path]
) -> None:
    _, bot = studio
    files = {p: p.read_text() for p in (bot / "data").rglob("*.yml")}
    wifi = alex.get(f"{API}/intent?name={q('faq/wifi')}").json()

    reply = put(alex, f"{API}/intent?name={q('faq/wifi')}", {
        "version": wifi["version"],
        "examples": [*wifi["examples"], {"text": "can i print here"}],
    })  # fmt: skip

    assert reply.status == 400
    assert reply.json()["error"] == "invalid_training_data"
    assert reply.json()["problems"] == [
        "The example 'can i print here' is under several labels: faq/printing, faq/wifi."
    ]
    assert {p: p.read_text() for p in (bot / "data").rglob("*.yml")} == files


def test_an_unknown_entity_is_refused(alex: ApiClient) -> None:
    wifi = alex.get(f"{API}/intent?name={q('faq/wifi')}").json()

    reply = put(alex, f"{API}/intent?name={q('faq/wifi')}", {
        "version": wifi["version"],
        "examples": [*wifi["examples"], {"text": "wifi at [the moon](planet)"}],
    })  # fmt: skip

    assert reply.status == 400
    assert reply.json()["error"] == "unknown_entity"


def test_invalid_yaml_in_the_raw_editor_is_refused_with_the_line(
    alex: ApiClient, studio: tuple[ConsoleServer, Path]
) -> None:
    _, bot = studio
    path = "data/nlu/core.yml"
    file = alex.get(f"{API}/file?path={q(path)}").json()

    reply = put(alex, f"{API}/file?path={q(path)}", {
        "version": file["version"], "content": file["content"] + "  - intent: [broken\n",
    })  # fmt: skip

    assert reply.status == 400
    assert reply.json()["error"] == "invalid_yaml"
    assert "data/nlu/core.yml" in reply.json()["message"]
    assert "line" in reply.json()["message"]
    assert (bot / path).read_text() == file["content"]


def test_create_an_faq_topic_with_its_answer_then_rename_it(
    alex: ApiClient, studio: tuple[ConsoleServer, Path]
) -> None:
    _, bot = studio
    created = alex.post(f"{API}/intents", {
        "name": "faq/museum_passes",
        "examples": ["can i borrow a museum pass", "free museum entry with my library card"],
        "answer": "Borrow a free museum pass at any desk with your card.",
    })  # fmt: skip

    assert created.status == 201, created.text
    body = created.json()
    assert body["answer"]["name"] == "utter_faq/museum_passes"
    assert body["files"] == ["data/nlu/faq_facilities.yml", "domain/faq.yml"]
    assert (
        '  utter_faq/museum_passes:\n    - text: "Borrow a free museum pass'
        in (bot / "domain/faq.yml").read_text()
    )

    renamed = alex.post(
        f"{API}/intent/rename?name={q('faq/museum_passes')}",
        {"version": body["version"], "new_name": "faq/museum_pass"},
    )

    assert renamed.status == 200, renamed.text
    assert renamed.json()["name"] == "faq/museum_pass"
    assert renamed.json()["answer"]["name"] == "utter_faq/museum_pass"
    nlu = (bot / "data/nlu/faq_facilities.yml").read_text()
    assert "intent: faq/museum_pass\n" in nlu
    assert "museum_passes" not in nlu + (bot / "domain/faq.yml").read_text()


def test_rename_updates_rules_domain_and_button_payloads(
    alex: ApiClient, studio: tuple[ConsoleServer, Path]
) -> None:
    _, bot = studio
    leave = alex.get(f"{API}/intent?name=leave_message").json()

    reply = alex.post(
        f"{API}/intent/rename?name=leave_message",
        {"version": leave["version"], "new_name": "leave_a_message"},
    )

    assert reply.status == 200, reply.text
    changed = set(reply.json()["files"])
    texts = {p.relative_to(bot).as_posix(): p.read_text() for p in bot.rglob("*.yml")}
    assert not [rel for rel, text in texts.items() if "leave_message\n" in text]
    assert "      - intent: leave_a_message\n" in texts["data/rules/handoff.yml"]
    assert "data/rules/handoff.yml" in changed
    assert any("- leave_a_message" in texts[rel] for rel in changed if rel.startswith("domain/"))


def test_a_contract_intent_cannot_be_renamed(alex: ApiClient) -> None:
    greet = alex.get(f"{API}/intent?name=greet").json()

    reply = alex.post(
        f"{API}/intent/rename?name=greet", {"version": greet["version"], "new_name": "hello"}
    )

    assert reply.status == 400
    assert reply.json()["error"] == "protected_name"


def test_edit_a_response_with_buttons_and_a_variation(
    alex: ApiClient, studio: tuple[ConsoleServer, Path]
) -> None:
    _, bot = studio
    greet = alex.get("/api/studio/training-data/response?name=utter_greet").json()
    variations = [
        greet["variations"][0],
        {
            "text": "Hi! Ask me about opening hours, loans or events.",
            "buttons": [{"title": "Events", "payload": "/faq"}],
        },
    ]

    reply = put(alex, "/api/studio/training-data/response?name=utter_greet", {
        "version": greet["version"], "variations": variations,
    })  # fmt: skip

    assert reply.status == 200, reply.text
    assert [v["text"] for v in reply.json()["variations"]] == [
        greet["variations"][0]["text"],
        "Hi! Ask me about opening hours, loans or events.",
    ]
    core = (bot / "domain/core.yml").read_text()
    assert (
        '    - text: "Hi! Ask me about opening hours, loans or events."\n'
        "      buttons:\n"
        '        - title: "Events"\n'
        '          payload: "/faq"\n'
    ) in core


def test_create_a_response_with_a_telegram_only_variation(
    alex: ApiClient, studio: tuple[ConsoleServer, Path]
) -> None:
    _, bot = studio
    reply = alex.post("/api/studio/training-data/responses", {
        "name": "utter_winter_hours",
        "variations": [
            {"text": "We close at 4pm in January."},
            {"text": "Winter hours: we close at 4pm.", "channel": "telegram"},
        ],
    })  # fmt: skip

    assert reply.status == 201, reply.text
    assert reply.json()["file"] == "domain/core.yml"
    assert [v["channel"] for v in reply.json()["variations"]] == [None, "telegram"]
    assert (
        "  utter_winter_hours:\n"
        '    - text: "We close at 4pm in January."\n'
        '    - text: "Winter hours: we close at 4pm."\n'
        "      channel: telegram\n"
    ) in (bot / "domain/core.yml").read_text()
    assert "utter_winter_hours" in [r["name"] for r in alex.get(f"{API}/responses").json()["items"]]

    again = alex.post("/api/studio/training-data/responses", {
        "name": "utter_winter_hours", "variations": [{"text": "x"}],
    })  # fmt: skip
    bad = alex.post("/api/studio/training-data/responses", {
        "name": "utter_x", "variations": [{"text": "x", "channel": "Tele gram"}],
    })  # fmt: skip

    assert (again.status, again.json()["error"]) == (409, "response_exists")
    assert (bad.status, bad.json()["error"]) == (400, "bad_channel")


def test_a_valid_raw_yaml_edit_is_saved(
    alex: ApiClient, studio: tuple[ConsoleServer, Path]
) -> None:
    _, bot = studio
    path = "data/nlu/core.yml"
    file = alex.get(f"{API}/file?path={q(path)}").json()
    content = file["content"] + "  - intent: greet\n    examples: |\n      - howdy partner\n"

    reply = put(alex, f"{API}/file?path={q(path)}", {
        "version": file["version"], "content": content,
    })  # fmt: skip

    assert reply.status == 200, reply.text
    assert reply.json()["files"] == [path]
    assert (bot / path).read_text() == content
    greet = alex.get(f"{API}/intent?name=greet").json()
    assert {"text": "howdy partner", "file": path} in greet["examples"]
    outside = alex.get(f"{API}/file?path={q('../config.yml')}")
    assert (outside.status, outside.json()["error"]) == (400, "bad_path")


def test_create_an_intent_with_an_answer_adds_its_response_and_rule(
    alex: ApiClient, studio: tuple[ConsoleServer, Path]
) -> None:
    _, bot = studio
    reply = alex.post(f"{API}/intents", {
        "name": "summer_reading",
        "examples": ["is there a summer reading challenge", "summer reading for kids"],
        "answer": "Yes! Sign up for the summer reading challenge at any branch.",
    })  # fmt: skip

    assert reply.status == 201, reply.text
    assert reply.json()["files"] == [
        "data/nlu/core.yml",
        "data/rules/studio.yml",
        "domain/core.yml",
    ]
    assert (bot / "data/rules/studio.yml").read_text() == (
        'version: "3.1"\n'
        "rules:\n"
        "  - rule: answer summer_reading\n"
        "    steps:\n"
        "      - intent: summer_reading\n"
        "      - action: utter_summer_reading\n"
    )
    domain = (bot / "domain/core.yml").read_text()
    assert "  - summer_reading\n" in domain
    assert '  utter_summer_reading:\n    - text: "Yes! Sign up' in domain


def test_move_examples_between_topics(alex: ApiClient) -> None:
    quiet = alex.get(f"{API}/intent?name={q('faq/quiet_zones')}").json()
    lockers = alex.get(f"{API}/intent?name={q('faq/lockers')}").json()
    moving = lockers["examples"][-1]["text"]

    reply = alex.post(f"{API}/intent/move?name={q('faq/lockers')}", {
        "version": lockers["version"], "examples": [moving],
        "to": "faq/quiet_zones", "to_version": quiet["version"],
    })  # fmt: skip

    assert reply.status == 200, reply.text
    assert moving not in [e["text"] for e in reply.json()["examples"]]
    after = alex.get(f"{API}/intent?name={q('faq/quiet_zones')}").json()
    assert {"text": moving, "file": quiet["examples"][0]["file"]} in after["examples"]


def test_pending_changes_patch_applies_to_the_original_and_discard_restores(
    alex: ApiClient, studio: tuple[ConsoleServer, Path], tmp_path: Path
) -> None:
    _, bot = studio
    changes = alex.get("/api/studio/changes").json()
    paths = [f["path"] for f in changes["files"]]
    assert "domain/faq.yml" in paths
    assert changes["baseline"].startswith("the snapshot")
    patch = alex.get("/api/studio/changes/patch")
    assert patch.status == 200
    assert patch.headers["Content-Disposition"] == 'attachment; filename="training-data.patch"'
    original = tmp_path / "repo"
    (original / "bot").mkdir(parents=True)
    subprocess.run(
        ["cp", "-r", *(str(BOT / d) for d in ("data", "domain", "tests")), str(original / "bot")]
    )
    (original / "training.patch").write_bytes(patch.body)
    applied = subprocess.run(
        ["git", "apply", "--check", "training.patch"], cwd=original, capture_output=True
    )
    assert applied.returncode == 0, applied.stderr

    # The domain alone cannot go back: the NLU data and the rule name summer_reading.
    refused = alex.post("/api/studio/changes/discard", {"paths": ["domain/core.yml"]})

    assert refused.status == 400
    assert refused.json()["error"] == "invalid_training_data"
    assert any("summer_reading" in p for p in refused.json()["problems"])

    discarded = alex.post("/api/studio/changes/discard", {})

    assert discarded.status == 200, discarded.text
    assert discarded.json()["discarded"] == paths
    assert discarded.json()["pending"] == []
    shipped = {p.relative_to(BOT).as_posix(): p.read_text() for p in BOT.rglob("*.yml")}
    now = {p.relative_to(bot).as_posix(): p.read_text() for p in bot.rglob("*.yml")}
    assert now == shipped
    assert alex.get("/api/studio/changes").json()["files"] == []

    history = alex.get("/api/studio/changes/history").json()["items"]
    assert history[0]["action"] == "studio.changes.discard"
    assert history[0]["by"] == "Alex Kim"


def test_studio_routes_refuse_a_bad_limit_or_body_each_with_its_own_error_code(
    alex: ApiClient,
) -> None:
    history = alex.get("/api/studio/changes/history?limit=0")
    inbox = alex.get("/api/studio/inbox?limit=501")
    rename = alex.post(f"{API}/intent/rename?name=greet", {"version": "x"})
    activate = alex.post("/api/studio/models/1/activate", {"override": "maybe"})

    assert (history.status, history.json()["error"]) == (400, "bad_request")
    assert history.json()["message"] == "limit is a whole number from 1 to 500."
    assert (inbox.status, inbox.json()["error"]) == (400, "bad_limit")
    assert (rename.status, rename.json()["error"]) == (400, "bad_request")
    assert rename.json()["message"] == "new_name: field required"
    assert (activate.status, activate.json()["error"]) == (400, "bad_body")
    assert activate.json()["message"].startswith("override: ")
