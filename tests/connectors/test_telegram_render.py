"""Pure Telegram rendering: buttons to inline keyboards, callback keys, text splitting."""

from __future__ import annotations

from connectors.telegram.render import (
    MAX_CALLBACK_BYTES,
    callback_data_for,
    custom_message,
    element_lines,
    inline_keyboard,
    resolve_callback,
    split_text,
)

LONG = '/place_hold{"record_id": "rec-000123", "book_format": "large_print"}'


def test_short_payloads_travel_as_themselves_and_long_ones_as_keys() -> None:
    assert callback_data_for("/library_hours") == "/library_hours"
    key = callback_data_for(LONG)
    assert key.startswith("k:") and len(key.encode()) <= MAX_CALLBACK_BYTES
    assert callback_data_for(LONG) == key  # stable across processes: no table needed
    assert callback_data_for("k:looks-like-a-key") != "k:looks-like-a-key"
    assert callback_data_for("é" * 40) != "é" * 40  # 80 bytes although 40 characters


def test_callbacks_resolve_only_to_offered_payloads() -> None:
    offered = {"/library_hours", LONG}
    assert resolve_callback("/library_hours", offered) == "/library_hours"
    assert resolve_callback(callback_data_for(LONG), offered) == LONG
    assert resolve_callback("/request_human", offered) is None
    assert resolve_callback("k:" + "0" * 32, offered) is None
    assert resolve_callback(LONG, offered) is None  # a long payload never arrives as itself


def test_inline_keyboard_has_a_row_per_button_and_opens_links() -> None:
    markup = inline_keyboard(
        [
            {"title": "Opening hours", "payload": "/library_hours"},
            {"title": "Reserve", "payload": LONG},
            {"title": "Catalogue", "url": "https://library.example/catalogue"},
            {"title": "Map", "type": "web_url", "payload": "https://library.example/map"},
        ]
    )
    assert markup is not None
    assert markup.to_dict() == {
        "inline_keyboard": [
            [{"text": "Opening hours", "callback_data": "/library_hours"}],
            [{"text": "Reserve", "callback_data": callback_data_for(LONG)}],
            [{"text": "Catalogue", "url": "https://library.example/catalogue"}],
            [{"text": "Map", "url": "https://library.example/map"}],
        ]
    }
    assert inline_keyboard([]) is None


def test_long_text_is_split_at_line_breaks() -> None:
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(100))
    parts = split_text(text, limit=1000)
    assert all(len(p) <= 1000 for p in parts)
    assert "\n".join(parts) == text
    assert split_text("  ") == []
    assert split_text("y" * 2500, limit=1000) == ["y" * 1000, "y" * 1000, "y" * 500]


def test_cards_and_custom_json_become_numbered_readable_lists() -> None:
    elements = [
        {
            "title": "The Hobbit",
            "subtitle": "J. R. R. Tolkien, 1937",
            "item_url": "https://library.example/rec/1",
            "buttons": [{"title": "Reserve", "payload": "/place_hold"}],
        },
        {"title": "Dune"},
    ]
    assert element_lines(elements) == (
        "1. The Hobbit — J. R. R. Tolkien, 1937\n   https://library.example/rec/1\n2. Dune",
        [{"title": "Reserve", "payload": "/place_hold"}],
    )
    assert custom_message({"text": "Results:", "results": [{"title": "Dune"}]}) == (
        "Results:\n1. Dune",
        [],
    )
    assert custom_message({"telegram": {"text": "native"}, "text": "generic"}) == ("native", [])
    assert custom_message({"survey": "csat", "scale": 5}) == ("survey: csat\nscale: 5", [])
