"""Tests for language detection and the ``LanguageGuard`` NLU component."""

# Samples are written in their own scripts on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import json

import pytest
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk import Tracker

from nlu_components.language_guard import (
    LanguageGuard,
    LanguageGuess,
    detect_language,
)
from nlu_components.language_reply import reply_for_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("我想续借我的书", "zh"),
        ("我想借 Harry Potter", "zh"),
        ("本を延長したいです", "ja"),
        ("図書館は何時に閉まりますか", "ja"),
        ("안녕하세요 책을 연장하고 싶어요", "ko"),
        ("مرحبا، أريد تجديد كتبي", "ar"),
        ("Здравствуйте, я хочу продлить книги", "ru"),
        ("Я хочу продовжити термін позики, будь ласка", "uk"),
        ("Γεια σας, θέλω να ανανεώσω τα βιβλία μου", "el"),
        ("שלום, אני רוצה להאריך את הספרים שלי", "he"),
        ("मैं अपनी किताबें नवीनीकृत करना चाहता हूं", "hi"),
        ("สวัสดีครับ ผมอยากยืมหนังสือต่อ", "th"),
        ("quiero renovar mis libros por favor", "es"),
        ("¿A qué hora cierra la biblioteca hoy?", "es"),
        ("Bonjour, je voudrais renouveler mes livres s'il vous plaît", "fr"),
        ("Ich möchte meine Bücher verlängern, bitte", "de"),
        ("Buongiorno, vorrei rinnovare i miei libri", "it"),
        ("Olá, eu gostaria de renovar os meus livros", "pt"),
        ("Goedemiddag, ik wil graag mijn boeken verlengen", "nl"),
        ("Dzień dobry, chciałbym przedłużyć moje książki", "pl"),
        ("Merhaba, kitaplarımı uzatmak istiyorum", "tr"),
    ],
)
def test_foreign_text_is_detected_confidently(text: str, code: str) -> None:
    guess = detect_language(text)
    assert (guess.code, guess.confidence >= 0.7) == (code, True)


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "hi",
        "hola",
        "merci",
        "21234000123456",
        "/greet",
        '/renew_loans{"card": "21234000123456"}',
        "\u2060/greet",
        "👍🙏",
        "",
        "   ",
        "Tomás",
        "好",
    ],
)
def test_short_inputs_are_never_foreign(text: str) -> None:
    guess = detect_language(text)
    assert (guess.code in {"en", "und"} or guess.confidence < 0.7) is True


@pytest.mark.parametrize(
    "text",
    [
        "can u renw my bookz pls",
        "whats the opening hours tmrw at riverside",
        "Hi, this is Tomás, can you renew my books?",
        "do you have les misérables",
        "Do you have Cien años de soledad by Gabriel García Márquez?",
        "do you have Война и мир",
        "Can you renew 我的书 please",
        "do you have 三体 by Liu Cixin in english",
        "Is the library open on Sunday?",
        "i want to reserve der zauberberg by thomas mann",
        "Hi, I want to renew my books. Gracias!",
        "my card 21234000123456 doesnt work at the self checkout",
        "library card expired",
        "Is there parking near the Riverside branch?",
    ],
)
def test_english_with_names_titles_and_typos_stays_english(text: str) -> None:
    assert detect_language(text).code == "en"


def test_reply_has_english_then_the_readers_language() -> None:
    assert reply_for_language("zh", "help@riverbend-library.org") == (
        "Sorry, this service works in English. A librarian may be able to help: "
        "help@riverbend-library.org\n"
        "抱歉，本服务仅支持英文。图书馆员也许可以帮助您：help@riverbend-library.org"
    )
    assert reply_for_language("es") == (
        "Sorry, this service works in English. A librarian may be able to help.\n"
        "Lo sentimos, este servicio funciona en inglés. Un bibliotecario podría ayudarle."
    )


@pytest.mark.parametrize(
    "code",
    [
        "zh",
        "ja",
        "ko",
        "ar",
        "ru",
        "es",
        "fr",
        "de",
        "it",
        "pt",
        "nl",
        "pl",
        "tr",
        "uk",
        "el",
        "hi",
    ],
)
def test_every_supported_language_has_a_translation(code: str) -> None:
    english, translated = reply_for_language(code, "+44 20 7946 0000").split("\n")
    assert english.endswith("help: +44 20 7946 0000")
    assert (translated != english, translated.endswith("+44 20 7946 0000")) == (True, True)


@pytest.mark.parametrize("code", ["en", "und", "xx", "sw", ""])
def test_unknown_codes_get_english_only(code: str) -> None:
    assert reply_for_language(code) == (
        "Sorry, this service works in English. A librarian may be able to help."
    )


def _classified(text: str) -> Message:
    """A message as DIET leaves it: a confident, wrong-or-right intent."""
    message = Message(data={TEXT: text})
    intent = {"name": "renew_loans", "confidence": 0.97}
    message.set(INTENT, intent, add_to_output=True)
    message.set(
        INTENT_RANKING_KEY,
        [intent, {"name": "greet", "confidence": 0.02}],
        add_to_output=True,
    )
    message.set(ENTITIES, [], add_to_output=True)
    return message


def test_component_overrides_intent_only_for_foreign_text() -> None:
    guard = LanguageGuard(LanguageGuard.get_default_config())
    chinese, english = guard.process(
        [_classified("我想续借我的书"), _classified("can you renew my books please")]
    )

    assert chinese.get(INTENT) == {"name": "non_english", "confidence": 1.0}
    assert chinese.get(INTENT_RANKING_KEY) == [
        {"name": "non_english", "confidence": 1.0},
        {"name": "renew_loans", "confidence": 0.97},
        {"name": "greet", "confidence": 0.02},
    ]
    assert chinese.get("language") == {"code": "zh", "confidence": 1.0}

    assert english.get(INTENT) == {"name": "renew_loans", "confidence": 0.97}
    assert [entry["name"] for entry in english.get(INTENT_RANKING_KEY)] == ["renew_loans", "greet"]
    assert english.get("language")["code"] == "en"


def test_component_leaves_short_and_accented_english_alone() -> None:
    guard = LanguageGuard({})
    messages = guard.process(
        [
            _classified(text)
            for text in (
                "ok",
                "/greet",
                "21234000123456",
                "do you have les misérables",
                "Tomás here",
            )
        ]
    )
    assert [message.get(INTENT)["name"] for message in messages] == ["renew_loans"] * 5


def test_component_respects_a_stricter_threshold() -> None:
    guard = LanguageGuard({"threshold": 1.01})
    (message,) = guard.process([_classified("quiero renovar mis libros por favor")])
    assert message.get(INTENT)["name"] == "renew_loans"
    assert message.get("language") == {"code": "es", "confidence": 1.0}


def test_language_reaches_the_action_server_as_latest_message_language() -> None:
    """Follow the processor's path: output properties -> UserUttered -> tracker -> sdk."""
    (message,) = LanguageGuard({}).process([_classified("我想续借我的书")])
    parse_data = {TEXT: "", INTENT: {"name": None, "confidence": 0.0}, ENTITIES: []}
    parse_data.update(message.as_dict(only_output_properties=True))
    event = UserUttered(message.get(TEXT), parse_data[INTENT], parse_data[ENTITIES], parse_data)
    tracker = DialogueStateTracker.from_events("reader-1", [event])

    # The action server receives the tracker state as JSON.
    state = json.loads(json.dumps(tracker.current_state()))
    sdk_tracker = Tracker.from_dict(state)

    assert sdk_tracker.latest_message["language"] == {"code": "zh", "confidence": 1.0}
    assert sdk_tracker.get_intent_of_latest_message() == "non_english"
    assert sdk_tracker.latest_message["entities"] == []


def test_language_guess_as_dict_rounds_confidence() -> None:
    assert LanguageGuess("fr", 0.87654).as_dict() == {"code": "fr", "confidence": 0.877}
