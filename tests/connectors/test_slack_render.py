"""Pure Slack rendering: Block Kit for text, lists and buttons; Slack text back to plain."""

from __future__ import annotations

from connectors.slack import SlackAddress
from connectors.slack.listeners import delivery_id
from connectors.slack.render import (
    custom_message,
    element_message,
    fallback_text,
    message_blocks,
    plain_text,
)

HOLD = '/place_hold{"record_id": "rec-1", "book_format": "book"}'


def test_text_and_buttons_become_a_section_and_an_actions_block() -> None:
    blocks = message_blocks(
        "Hello <reader> & friends",
        [
            {"title": "Opening hours", "payload": "/library_hours"},
            {"title": "Catalogue", "url": "https://library.example/catalogue"},
        ],
    )
    assert blocks == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Hello &lt;reader&gt; &amp; friends"},
        },
        {
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
                    "text": {"type": "plain_text", "text": "Catalogue", "emoji": True},
                    "action_id": "ric_link_1",
                    "url": "https://library.example/catalogue",
                },
            ],
        },
    ]


def test_a_catalogue_list_gets_a_section_per_result_with_the_title_in_bold() -> None:
    text = "Here's what I found:\n• The Hobbit — Tolkien (1937, book). Available: Central 2/3"
    assert message_blocks(text) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Here's what I found:"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "• *The Hobbit* — Tolkien (1937, book). Available: Central 2/3",
            },
        },
    ]


def test_more_than_25_buttons_are_split_and_long_text_fits_sections() -> None:
    buttons = [{"title": f"B{n}", "payload": f"/b{n}"} for n in range(30)]
    blocks = message_blocks("x" * 7000, buttons)
    assert [b["type"] for b in blocks] == ["section"] * 3 + ["actions"] * 2
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [25, 5]


def test_fallback_text_lists_the_choices() -> None:
    assert fallback_text("Pick one <now>", [{"title": "A", "payload": "/a"}, {"title": "B"}]) == (
        "Pick one &lt;now&gt;\nChoices: A | B"
    )


def test_slack_text_is_read_as_the_reader_saw_it() -> None:
    text = "<@U0BOT> is &lt;b&gt; ok &amp; see <https://x.example/a|the page> or <#C1|general>"
    assert plain_text(text, "U0BOT") == "is <b> ok & see the page (https://x.example/a) or general"
    assert plain_text("<https://x.example>") == "https://x.example"


def test_cards_and_custom_messages() -> None:
    assert element_message([{"title": "Dune", "subtitle": "Herbert", "buttons": []}]) == (
        "• Dune — Herbert",
        [],
    )
    native = {"slack": {"text": "fallback", "blocks": [{"type": "divider"}]}}
    assert custom_message(native) == ("fallback", [], [{"type": "divider"}])
    assert custom_message({"survey": "csat"}) == ("survey: csat", [], None)


def test_addresses_map_dms_and_threads_both_ways() -> None:
    assert SlackAddress.from_sender_id("U123") == SlackAddress("U123")
    thread = SlackAddress.from_sender_id("C9-1800000000.000100")
    assert thread == SlackAddress("C9", "1800000000.000100")
    assert thread.sender_id == "C9-1800000000.000100"


def test_delivery_ids() -> None:
    assert delivery_id({"type": "event_callback", "event_id": "Ev1"}) == "Ev1"
    action = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_ts": "5.5"}]}
    assert delivery_id(action) == "action:U1:5.5"
    assert delivery_id({"type": "url_verification"}) is None
