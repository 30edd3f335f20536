"""The Slack channel at the protocol level: signed Events API and interactivity requests in,
Web API calls out.

The system fixture runs the real Rasa and action servers with the channel pointed at
the Web API stand-in (``tests/standins/slack_api.py``). Requests are signed as Slack
signs them (v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from connectors.platform_input import UNKNOWN_BUTTON_TEXT, too_long_text
from connectors.slack.render import fallback_text
from tests.standins.slack_api import BOT_USER_ID, TEAM_ID, SlackApiStandIn, WebApiCall
from tests.standins.slack_env import SLACK_SIGNING_SECRET, SLACK_TOKEN
from tests.system import RunningSystem

pytestmark = pytest.mark.rasa

GREETING = "Hello! I'm the library assistant."
_numbers = itertools.count(random.randint(10_000, 90_000))


def new_user() -> str:
    return f"U{next(_numbers)}"


def new_ts() -> str:
    return f"{1_800_000_000 + next(_numbers)}.000{random.randint(100, 999)}"


def event_body(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0RIC",
        "event": {"team": TEAM_ID, "event_ts": event.get("ts"), **event},
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_numbers)}",
        "event_time": 1_800_000_000,
        "authorizations": [
            {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "enterprise_id": None}
        ],
    }


def dm(user: str, text: str, **extra: Any) -> dict[str, Any]:
    return event_body(
        {
            "type": "message",
            "channel": f"D{user[1:]}",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": new_ts(),
            "client_msg_id": f"m-{next(_numbers)}",
            **extra,
        }
    )


def signed_headers(
    body: bytes, timestamp: int | None = None, secret: str = SLACK_SIGNING_SECRET
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def post(
    system: RunningSystem,
    body: bytes | dict[str, Any],
    headers: dict[str, str] | None = None,
    form: bool = False,
    **sign: Any,
) -> tuple[int, str]:
    if isinstance(body, bytes):
        data = body
    elif form:
        data = urllib.parse.urlencode({"payload": json.dumps(body)}).encode()
    else:
        data = json.dumps(body).encode()
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    all_headers = {"Content-Type": kind, **signed_headers(data, **sign), **(headers or {})}
    request = urllib.request.Request(
        f"{system.rasa_url}/webhooks/slack/events", data=data, headers=all_headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def tracker_events(
    system: RunningSystem, sender_id: str, kind: str, at_least: int = 0
) -> list[dict[str, Any]]:
    """Events of one kind; waits for ``at_least`` of them (Slack turns run after the ack)."""
    quoted = urllib.parse.quote(sender_id, safe="")
    url = f"{system.rasa_url}/conversations/{quoted}/tracker?token={system.token}"
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(url, timeout=10) as reply:
            found = [e for e in json.loads(reply.read())["events"] if e["event"] == kind]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def replies(api: SlackApiStandIn, channel: str, count: int = 1) -> list[WebApiCall]:
    found = api.wait_for("chat.postMessage", channel, count=count)
    assert len(found) >= count, f"expected {count} replies in {channel}, got {len(found)}"
    return found


def button_press(
    user: str, channel: str, message: dict[str, Any], action_id: str, value: str, title: str
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "ada", "team_id": TEAM_ID},
        "api_app_id": "A0RIC",
        "token": "legacy-verification-token",
        "team": {"id": TEAM_ID, "domain": "library"},
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
            **({"thread_ts": message["thread_ts"]} if "thread_ts" in message else {}),
        },
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": title, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def test_url_verification_challenge_is_answered(system: RunningSystem) -> None:
    body = {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    status, reply = post(system, {**body, "type": "url_verification"})
    assert status == 200
    assert json.loads(reply) == {"challenge": body["challenge"]}


def test_a_direct_message_is_answered_in_the_dm_with_block_kit(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = new_user()
    assert post(system, dm(user, "hello &lt;b&gt;library&lt;/b&gt;"))[0] == 200
    [reply] = replies(slack_api, user)
    assert reply.token == SLACK_TOKEN
    assert "thread_ts" not in reply.params
    text = reply.params["blocks"][0]["text"]["text"]
    assert text.startswith(GREETING)
    assert reply.params["blocks"][1] == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Opening hours", "emoji": True},
                "action_id": "ric_button_0",
                "value": "/library_hours",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Talk to a librarian", "emoji": True},
                "action_id": "ric_button_1",
                "value": "/request_human",
            },
        ],
    }
    assert reply.params["text"] == text + "\nChoices: Opening hours | Talk to a librarian"
    [event] = tracker_events(system, user, "user", 1)
    assert event["text"] == "hello <b>library</b>"  # Slack's escaping undone
    assert event["input_channel"] == "slack"
    assert event["metadata"]["slack"]["user"] == user


def test_a_mention_in_a_channel_is_answered_in_its_thread(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user, ts = new_user(), new_ts()
    channel = f"C{next(_numbers)}"
    mention = {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{BOT_USER_ID}> hi there",
        "ts": ts,
    }
    assert post(system, event_body(mention))[0] == 200
    [reply] = replies(slack_api, channel)
    assert reply.params["thread_ts"] == ts
    assert reply.params["blocks"][0]["text"]["text"].startswith(GREETING)
    [event] = tracker_events(system, f"{channel}-{ts}", "user", 1)
    assert event["text"] == "hi there"
    assert event["metadata"]["slack"]["user"] == user
    # A later mention inside the thread continues the same conversation.
    follow_up = {**mention, "text": f"<@{BOT_USER_ID}> bye", "ts": new_ts(), "thread_ts": ts}
    assert post(system, event_body(follow_up))[0] == 200
    assert replies(slack_api, channel, 2)[1].params["thread_ts"] == ts
    assert len(tracker_events(system, f"{channel}-{ts}", "user", 2)) == 2


def test_a_button_press_is_acknowledged_and_processed(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = new_user()
    post(system, dm(user, "hi"))
    [greeting] = replies(slack_api, user)
    tracker_events(system, user, "bot", 1)  # the offer is saved before the reader can press it
    message = {"type": "message", "ts": "1800000000.000001", "blocks": greeting.params["blocks"]}
    press = button_press(
        user, f"D{user[1:]}", message, "ric_button_0", "/library_hours", "Opening hours"
    )
    status, body = post(system, press, form=True)
    assert (status, body) == (200, "")  # acknowledged at once
    replies(slack_api, user, 2)
    [_, pressed] = tracker_events(system, user, "user", 2)
    assert pressed["text"] == "/library_hours"
    assert pressed["parse_data"]["intent"]["name"] == "library_hours"
    assert pressed["metadata"]["display_text"] == "Opening hours"


def test_catalogue_results_are_sections_with_reserve_buttons_that_work(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = new_user()
    post(system, dm(user, "do you have the hobbit"))
    [results] = replies(slack_api, user)
    tracker_events(system, user, "bot", 1)
    blocks = results.params["blocks"]
    assert blocks[1]["text"]["text"].startswith("• *The Hobbit* — ")
    actions = blocks[-1]
    assert actions["type"] == "actions"
    first = actions["elements"][0]
    assert first["text"]["text"].startswith("Reserve: The Hobbit")
    assert first["value"].startswith('/place_hold{"record_id": ')
    message = {"type": "message", "ts": "1800000000.000002", "blocks": blocks}
    press = button_press(
        user, f"D{user[1:]}", message, first["action_id"], first["value"], first["text"]["text"]
    )
    assert post(system, press, form=True)[0] == 200
    replies(slack_api, user, 2)
    pressed = tracker_events(system, user, "user", 2)[-1]
    assert pressed["parse_data"]["intent"]["name"] == "place_hold"


def test_unknown_buttons_get_a_clear_reply(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = new_user()
    post(system, dm(user, "hi"))
    replies(slack_api, user)
    tracker_events(system, user, "bot", 1)
    message = {"type": "message", "ts": "1800000000.000003"}
    channel = f"D{user[1:]}"
    for action_id, value in (("ric_button_0", "/restart"), ("someone_elses_button", "x")):
        assert (
            post(system, button_press(user, channel, message, action_id, value, "?"), form=True)[0]
            == 200
        )
    answers = replies(slack_api, user, 3)
    assert [a.params["text"] for a in answers[1:]] == [fallback_text(UNKNOWN_BUTTON_TEXT)] * 2
    assert len(tracker_events(system, user, "user", 1)) == 1


def test_a_retried_event_is_processed_once(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = new_user()
    first = dm(user, "hello")
    assert post(system, first)[0] == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert post(system, first, headers=retry) == (200, "")
    # Bot messages and edits are ignored too.
    bot_echo = dm(user, "I am a bot", bot_id="B0OTHER", subtype="bot_message")
    assert post(system, bot_echo)[0] == 200
    edit = dm(user, "edited", subtype="message_changed")
    assert post(system, edit)[0] == 200
    assert post(system, dm(user, "thanks"))[0] == 200
    replies(slack_api, user, 2)
    assert [e["text"] for e in tracker_events(system, user, "user", 2)] == ["hello", "thanks"]
    assert len(slack_api.made("chat.postMessage", user)) == 2
    from tests.connectors.test_telegram import receipts

    assert receipts(system, "slack", first["event_id"]) == 1  # survives restarts


def test_bad_and_stale_signatures_are_refused(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = new_user()
    assert post(system, dm(user, "hello"), secret="not-the-secret")[0] == 401
    assert post(system, dm(user, "hello"), timestamp=int(time.time()) - 600)[0] == 401
    unsigned = urllib.request.Request(
        f"{system.rasa_url}/webhooks/slack/events",
        data=json.dumps(dm(user, "hello")).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=30)
    assert refused.value.code == 401
    assert slack_api.made("chat.postMessage", user) == []


def test_malformed_bodies_get_400_when_signed_and_401_when_not(system: RunningSystem) -> None:
    for body in (b"{not json", b"[1, 2]", b"payload=%7Bbroken"):
        status, reply = post(system, body)
        assert status == 400, body
        assert json.loads(reply)["error"] == "malformed"
    assert post(system, b"{not json", secret="wrong")[0] == 401


def test_an_oversized_message_gets_a_clear_reply(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = new_user()
    assert post(system, dm(user, "a" * 4001))[0] == 200
    [reply] = replies(slack_api, user)
    assert reply.params["text"] == too_long_text(4001, 4000)
    assert tracker_events(system, user, "user") == []


def test_proactive_messages_reach_a_dm_and_a_thread(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user, ts = new_user(), new_ts()
    channel = f"C{next(_numbers)}"
    for sender_id in (user, f"{channel}-{ts}"):
        events = [
            {
                "event": "bot",
                "text": "Sam here: your book <is> ready & waiting.",
                "data": {"buttons": [{"title": "Thanks!", "payload": "/thank"}]},
                "metadata": {"librarian": "sam"},
            }
        ]
        quoted = urllib.parse.quote(sender_id, safe="")
        url = (
            f"{system.rasa_url}/conversations/{quoted}/tracker/events"
            f"?execute_side_effects=true&output_channel=slack&token={system.token}"
        )
        request = urllib.request.Request(
            url, data=json.dumps(events).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.status == 200
    [to_user] = slack_api.made("chat.postMessage", user)
    assert to_user.params["text"] == (
        "Sam here: your book &lt;is&gt; ready &amp; waiting.\nChoices: Thanks!"
    )
    assert to_user.params["blocks"][1]["elements"][0]["value"] == "/thank"
    [to_thread] = slack_api.made("chat.postMessage", channel)
    assert to_thread.params["thread_ts"] == ts


def test_a_handoff_started_in_a_slack_thread_is_answered_there_from_the_console(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    from tests.connectors.test_telegram import console_api, conversation_id_of

    api, sessions = console_api(system, "slack")
    user, ts = new_user(), new_ts()
    channel = f"C{next(_numbers)}"
    mention = {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{BOT_USER_ID}> I'd like to talk to a librarian please",
        "ts": ts,
    }
    assert post(system, event_body(mention))[0] == 200
    handing_off = slack_api.wait_for(
        "chat.postMessage", channel, where=lambda c: "asked a librarian to join" in c.params["text"]
    )
    assert handing_off, [c.params["text"] for c in slack_api.made("chat.postMessage", channel)]
    sender_id = f"{channel}-{ts}"
    conversation_id = conversation_id_of(sessions, sender_id)
    queue = api.get("/api/queue").json()["items"]
    item = next(i for i in queue if i["conversation_id"] == conversation_id)
    assert (item["status"], item["channel"]) == ("waiting", "slack")
    assert api.post(f"/api/conversations/{conversation_id}/claim").status == 200
    text = "Hello, I'm Robin. <b>Which</b> chapter & which style guide?"
    sent = api.post(f"/api/conversations/{conversation_id}/messages", {"text": text})
    assert sent.status == 201, sent.text
    [answer] = slack_api.wait_for(
        "chat.postMessage", channel, where=lambda c: c.params["text"].startswith("Hello, I'm Robin")
    )
    assert answer.params["thread_ts"] == ts
    assert answer.params["text"] == (
        "Hello, I'm Robin. &lt;b&gt;Which&lt;/b&gt; chapter &amp; which style guide?"
    )


@pytest.mark.defects
def test_a_lone_surrogate_nul_and_c1_never_reach_rasa(
    system: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = new_user()
    body = json.dumps(dm(user, "hello \ud800 open?\x00\x88 now\x1b")).encode()
    assert b"\\ud800" in body  # signed exactly as sent, escape and all
    assert post(system, body)[0] == 200
    [event] = tracker_events(system, user, "user", 1)
    assert event["text"] == "hello \ufffd open? now"
    replies(slack_api, user)  # and the reader was answered


@pytest.mark.defects
def test_deeply_nested_json_is_malformed_not_a_server_error(system: RunningSystem) -> None:
    for body in (b"[" * 100_000, b'{"a": ' * 50_000):  # was a RecursionError and a 500
        status, reply = post(system, body)
        assert (status, json.loads(reply)["error"]) == (400, "malformed")
        assert post(system, body, secret="wrong")[0] == 401
