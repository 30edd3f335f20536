"""MessageCleanup: pasted email quoting and markup are removed before NLU, on every channel."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.message_cleanup import CLEANUP_KEY, MessageCleanup, clean_message

GMAIL_REPLY = """Can I renew my books please?

On Mon, 30 Nov 2026 at 10:02, Riverbend Library <hello@riverbend-library.example> wrote:
> Your loans are due soon. Reply to this message if you need help.
> What are your opening hours?"""

OUTLOOK_REPLY = """what time do you close on saturday

From: Riverbend Library <hello@riverbend-library.example>
Sent: 30 November 2026 10:02
To: Ada Okafor
Subject: Your loans

Is the wifi free?"""

SIGNED = """is there parking at northside?

Thanks,
Ada Okafor
Sent from my iPhone"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GMAIL_REPLY, ("Can I renew my books please?", ["quoted_email"])),
        (OUTLOOK_REPLY, ("what time do you close on saturday", ["quoted_email"])),
        (SIGNED, ("is there parking at northside?", ["quoted_email"])),
        ("renew my books\n-- \nAda", ("renew my books", ["quoted_email"])),
        (
            "do you have [Beloved](https://catalogue.riverbend-library.example/wifi?q=beloved)",
            ("do you have “Beloved”", ["markup"]),
        ),
        ("is **Cry, the Beloved Country** in?", ("is “Cry, the Beloved Country” in?", ["markup"])),
        (
            'do you have <a href="https://x.example/printing">Beloved</a>?',
            ("do you have “Beloved”?", ["markup"]),
        ),
        (
            "do you have _Beloved_ by Toni Morrison",
            ("do you have “Beloved” by Toni Morrison", ["markup"]),
        ),
        ("see https://example.org/wifi for Beloved", ("see for Beloved", ["markup"])),
        ("what time do you close today?", ("what time do you close today?", [])),
        ("thanks", ("thanks", [])),
        ("Thanks,\nAda", ("Thanks,\nAda", [])),
        ("my_card_number is 21234000123456", ("my_card_number is 21234000123456", [])),
        ("https://example.org", ("https://example.org", [])),
    ],
)
def test_clean_message(text, expected):
    assert clean_message(text) == expected


def test_the_component_rewrites_the_text_nlu_sees_and_records_what_it_did():
    message = Message(data={"text": GMAIL_REPLY})

    MessageCleanup().process([message])

    assert message.get("text") == "Can I renew my books please?"
    assert message.as_dict(only_output_properties=True)[CLEANUP_KEY] == ["quoted_email"]


def test_the_component_leaves_clean_text_and_button_payloads_alone():
    plain = Message(data={"text": "hello"})
    payload = Message(data={"text": '/place_hold{"record_id": "b0284"}'})

    MessageCleanup().process([plain, payload])

    assert (plain.get("text"), plain.get(CLEANUP_KEY)) == ("hello", None)
    assert payload.get("text") == '/place_hold{"record_id": "b0284"}'


def test_training_examples_are_not_rewritten():
    data = TrainingData(
        [Message(data={"text": "do you have **Dune**", "intent": "search_catalog"})]
    )

    assert MessageCleanup().process_training_data(data).training_examples[0].get("text") == (
        "do you have **Dune**"
    )
