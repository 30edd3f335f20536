"""Catch messages that are not in English before they are misclassified.

The assistant's NLU is trained on English only, so "我想续借我的书" would get
whatever intent DIET finds least unlikely, sometimes with high confidence. This
module detects the language with no model and no dependency:

* non-Latin scripts (Chinese, Japanese, Korean, Arabic, Cyrillic, Greek, Hebrew,
  Devanagari, Thai) by counting code points per script;
* Latin-script languages (en, es, fr, de, it, pt, nl, pl, tr) by counting hits in
  small stopword lists, plus a few letters that only some languages use.

:class:`LanguageGuard` runs at the END of the NLU pipeline. For every message it
stores the guess as a top-level ``language`` key of the parse data; when the
message is confidently not English it replaces the intent with ``non_english``
(confidence 1.0, first in ``intent_ranking``). A rasa-sdk action reads it as::

    tracker.latest_message["language"]["code"]        # "zh", "es", "en", "und"...
    tracker.latest_message["language"]["confidence"]  # 0.0 - 1.0

The key is registered as an output property, so it survives
``Message.as_dict(only_output_properties=True)`` in the processor, is stored in
the ``UserUttered`` event's ``parse_data`` and is sent to the action server as
part of ``latest_message`` (the action's reply is built by
:func:`nlu_components.language_reply.reply_for_language`). No entity is added: a
span-less entity that is not in the domain makes Rasa log a warning on every turn and
could reach slot mappings.
"""

# Foreign letters and punctuation (dotless i, Greek, fullwidth colon) are the point here.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlu_components._stateless import StatelessComponent
from nlu_components.intent_override import override_intent

__all__ = [
    "LANGUAGE_KEY",
    "NON_ENGLISH_INTENT",
    "LanguageGuard",
    "LanguageGuess",
    "detect_language",
    "is_confidently_foreign",
]

LANGUAGE_KEY = "language"
NON_ENGLISH_INTENT = "non_english"
DEFAULT_THRESHOLD = 0.7
UNDETERMINED = "und"


@dataclass(frozen=True)
class LanguageGuess:
    """The detected language of a text.

    Attributes:
        code: ISO 639-1 code ("zh", "es", "en"...), or ``"und"`` when the text is too
            short or has no letters to judge.
        confidence: How sure the guess is, from 0.0 to 1.0.
    """

    code: str
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        """The guess as stored in the parse data under :data:`LANGUAGE_KEY`."""
        return {"code": self.code, "confidence": round(self.confidence, 3)}


# --- non-Latin scripts -------------------------------------------------------------

# (first, last, script). Han and kana are told apart later: Japanese mixes both.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0370, 0x03FF, "el"),
    (0x1F00, 0x1FFF, "el"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "he"),
    (0xFB1D, 0xFB4F, "he"),
    (0x0600, 0x06FF, "ar"),
    (0x0750, 0x077F, "ar"),
    (0x08A0, 0x08FF, "ar"),
    (0xFB50, 0xFDFF, "ar"),
    (0xFE70, 0xFEFF, "ar"),
    (0x0900, 0x097F, "hi"),
    (0x0E00, 0x0E7F, "th"),
    (0x1100, 0x11FF, "ko"),
    (0x3130, 0x318F, "ko"),
    (0xAC00, 0xD7AF, "ko"),
    (0x3040, 0x30FF, "kana"),
    (0x31F0, 0x31FF, "kana"),
    (0xFF66, 0xFF9D, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xF900, 0xFAFF, "han"),
    (0x20000, 0x2FA1F, "han"),
)
# One CJK character carries about as much as a short Latin word.
_DENSE_SCRIPTS = frozenset({"han", "kana", "ko"})
_DENSE_WEIGHT = 3
_UKRAINIAN_LETTERS = frozenset("іїєґІЇЄҐ")
_MIN_SCRIPT_LETTERS = 3
_MIN_DENSE_CHARS = 2


def _script(char: str) -> str | None:
    point = ord(char)
    for first, last, script in _SCRIPT_RANGES:
        if first <= point <= last:
            return script
    return None


# --- Latin-script languages --------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# About 30-40 frequent words each, plus library words readers use in requests.
# Words that are also common English ("a", "in", "as", "to", "come", "will", "also",
# "open", "die") are left out of the foreign lists on purpose.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the an and or to of in on for is are was can could would will do does did you "
        "your i my me it this that what when where how have has please pls plz u ur im "
        "thanks thank with at by from be not there any book books renew library hi hello "
        "hey want need tell open close today"
    ),
    "es": _words(
        "el la los las de del que y en un una por para con mis mi es está están quiero "
        "puedo necesito tengo hola gracias favor libro libros biblioteca cómo cuándo "
        "dónde qué renovar préstamo tarjeta horario hasta pero muy también usted buenos "
        "días"
    ),
    "fr": _words(
        "le la les des du de un une et est je j vous nous pour avec mes mon ma que qui pas "
        "ne sur bonjour merci livre livres bibliothèque voudrais veux peux pouvez "
        "renouveler emprunt carte quand où comment aujourd hui plaît ai"
    ),
    "de": _words(
        "der das und ist ich mein meine meinen meiner nicht ein eine einen mit für auf "
        "zu den dem sie können kann möchte bitte danke hallo buch bücher bibliothek "
        "verlängern ausleihe wann wo wie heute geöffnet habe gibt es noch auch"
    ),
    "it": _words(
        "il lo la gli le di del della che e è un una per con sono mio miei mie vorrei "
        "posso libro libri biblioteca grazie ciao buongiorno rinnovare prestito prestiti "
        "quando dove oggi aperta orari non anche"
    ),
    "pt": _words(
        "o os de do da dos das que e em um uma para com não meu meus minha minhas eu você "
        "quero gostaria posso livro livros biblioteca obrigado obrigada olá renovar "
        "empréstimo quando onde hoje está por favor"
    ),
    "nl": _words(
        "de het een en ik mijn je jij is van voor met niet op te dat wil kan graag boek "
        "boeken bibliotheek verlengen dank bedankt hallo wanneer waar hoe vandaag ook "
        "zijn"
    ),
    "pl": _words(
        "w z na się nie jest że czy mogę chcę chciałbym chciałabym moje mojej moich "
        "książki książkę książka biblioteka biblioteki dzień dobry dziękuję proszę "
        "przedłużyć wypożyczenie kiedy gdzie jak dzisiaj otwarte karta mam"
    ),
    "tr": _words(
        "bir ve bu için ne mi mı de da ben benim kitap kitaplarımı kitabı kitabımı "
        "istiyorum merhaba lütfen teşekkürler teşekkür ederim kütüphane kütüphanenin "
        "uzatmak yenilemek nasıl nerede zaman bugün açık var mısınız musunuz yardım"
    ),
}
# Letters that point at one language. Names ("Tomás", "Müller") carry at most one
# of these, and the bonus is capped, so they cannot outweigh an English sentence.
_LETTER_BONUS: dict[str, dict[str, float]] = {
    "es": {"ñ": 1.0, "¿": 1.0, "¡": 1.0},
    "fr": {"ç": 0.5, "œ": 1.0, "è": 0.5, "ê": 0.5, "î": 0.5, "û": 0.5, "â": 0.5},
    "de": {"ß": 1.0, "ä": 0.5, "ö": 0.5, "ü": 0.5},
    "it": {"ì": 0.5, "ò": 0.5, "è": 0.25},
    "pt": {"ã": 1.0, "õ": 1.0, "ç": 0.5, "ê": 0.25},
    "nl": {"ĳ": 1.0},
    "pl": {"ą": 1.0, "ę": 1.0, "ł": 1.0, "ś": 1.0, "ź": 1.0, "ż": 1.0, "ć": 0.5, "ń": 0.5},
    "tr": {"ı": 1.0, "ğ": 1.0, "ş": 1.0},
}
_MAX_LETTER_BONUS = 1.5
_WORD = re.compile(r"[^\W\d_]+")
_URL_OR_EMAIL = re.compile(r"(https?://\S+|www\.\S+|\S+@\S+\.\S+)", re.IGNORECASE)
_MIN_FOREIGN_SCORE = 2.0
_FOREIGN_OVER_ENGLISH = 1.5


def _latin_guess(words: list[str], text: str) -> LanguageGuess:
    if not words:
        return LanguageGuess(UNDETERMINED, 0.0)
    lowered = text.lower()
    scores: dict[str, float] = {}
    for code, stopwords in _STOPWORDS.items():
        hits = float(sum(1 for word in words if word in stopwords))
        bonus = sum(
            weight for letter, weight in _LETTER_BONUS.get(code, {}).items() if letter in lowered
        )
        scores[code] = hits + min(bonus, _MAX_LETTER_BONUS)
    english = scores.pop("en")
    if len(words) <= 2:
        # "ok", "hi", "hola", "Tomás": too little to judge, never flagged as foreign.
        return LanguageGuess("en", 0.6) if english else LanguageGuess(UNDETERMINED, 0.0)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    foreign_code, foreign = ranked[0]
    runner_up = ranked[1][1]
    if foreign >= _MIN_FOREIGN_SCORE and foreign > _FOREIGN_OVER_ENGLISH * english:
        margin = (foreign - english) / foreign
        coverage = min(1.0, foreign / 3.0, 2.0 * foreign / len(words))
        # Close neighbours (es/pt, nl/de) lower confidence in *which* language only a
        # little: the reader still needs the "English only" reply.
        distinct = 1.0 if runner_up < foreign else 0.9
        return LanguageGuess(foreign_code, round(margin * coverage * distinct, 3))
    if english:
        return LanguageGuess(
            "en", round(min(1.0, english / 3.0) * english / (english + foreign), 3)
        )
    # No evidence either way: plain ASCII words are most likely English typos or names.
    return LanguageGuess("en", 0.3) if text.isascii() else LanguageGuess(UNDETERMINED, 0.0)


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of a reader's message.

    Non-Latin scripts are recognised by their code points; Latin-script languages
    by stopword frequency. Short texts ("ok", "hi", "/greet", card numbers, emoji)
    come back as ``"en"`` or ``"und"``, never as a foreign language, and so do
    English sentences holding a foreign name or title ("do you have les
    misérables", "Tomás here").

    Args:
        text: The message text.

    Returns:
        The guess. ``code`` is ``"und"`` when there is nothing to judge.
    """
    text = unicodedata.normalize("NFC", text.replace("\u2060", "")).strip()
    if not text or text.startswith("/"):
        return LanguageGuess(UNDETERMINED, 0.0)
    text = _URL_OR_EMAIL.sub(" ", text)

    counts: dict[str, int] = {}
    latin_letters = 0
    for char in text:
        if not char.isalpha():
            continue
        script = _script(char)
        if script is None:
            latin_letters += 1
        else:
            counts[script] = counts.get(script, 0) + 1

    latin_words = [
        word.lower()
        for word in _WORD.findall(text)
        if word.isascii() or all(_script(char) is None for char in word)
    ]
    english_hits = sum(1 for word in latin_words if word in _STOPWORDS["en"])

    if counts:
        guess = _script_guess(counts, latin_letters, english_hits, text)
        if guess is not None:
            return guess
    return _latin_guess(latin_words, text)


def _script_guess(
    counts: dict[str, int], latin_letters: int, english_hits: int, text: str
) -> LanguageGuess | None:
    kana = counts.get("kana", 0)
    han = counts.get("han", 0)
    merged: dict[str, int] = {}
    for script, count in counts.items():
        if script in {"han", "kana"}:
            continue
        merged[script] = count
    if han or kana:
        # Japanese writes with kanji *and* kana; Chinese has no kana.
        japanese = kana >= 1 and kana >= 0.1 * (han + kana)
        merged["ja" if japanese else "zh"] = han + kana
    script, count = max(merged.items(), key=lambda item: item[1])
    weighted = count * (_DENSE_WEIGHT if script in {"zh", "ja", "ko"} else 1)
    share = weighted / (weighted + latin_letters)
    foreign = (
        share >= 0.6 or (share >= 0.4 and english_hits < 2) or (share >= 0.25 and english_hits == 0)
    )
    if not foreign:
        return None
    if script == "cyrillic":
        script = "uk" if any(char in _UKRAINIAN_LETTERS for char in text) else "ru"
    enough = count >= (_MIN_DENSE_CHARS if script in {"zh", "ja", "ko"} else _MIN_SCRIPT_LETTERS)
    confidence = min(1.0, 0.4 + share) if enough else 0.5
    return LanguageGuess(script, round(confidence, 3))


def is_confidently_foreign(guess: LanguageGuess, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether ``guess`` is a non-English language at or above ``threshold``."""
    return guess.code not in {"en", UNDETERMINED} and guess.confidence >= threshold


# --- the graph component -----------------------------------------------------------


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageGuard(StatelessComponent, IntentClassifier):
    """Overrides the intent with ``non_english`` when a message is not in English.

    Put it last in the pipeline (after ``FallbackClassifier``). Config:

    * ``threshold`` (0.7): minimum detection confidence to override the intent.
    * ``intent_name`` ("non_english"): the intent to predict; it must be in the domain.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Components that must run before this one: some intent classifier."""
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {"threshold": DEFAULT_THRESHOLD, "intent_name": NON_ENGLISH_INTENT}

    def process(self, messages: list[Message]) -> list[Message]:
        """Store each message's language and override the intent for foreign text.

        Args:
            messages: The parsed messages, intents already set by earlier components.

        Returns:
            The same messages. Each gets ``language`` (``{"code", "confidence"}``)
            in its output; a confidently non-English one gets the ``non_english``
            intent at confidence 1.0, ranked first.
        """
        threshold = float(self.component_config["threshold"])
        intent_name = str(self.component_config["intent_name"])
        for message in messages:
            guess = detect_language(message.get(TEXT) or "")
            message.set(LANGUAGE_KEY, guess.as_dict(), add_to_output=True)
            if not is_confidently_foreign(guess, threshold):
                continue
            override_intent(message, intent_name)
        return messages
