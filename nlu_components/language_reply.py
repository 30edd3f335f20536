"""The "this service works in English" reply, in English and in the reader's language.

:mod:`nlu_components.language_guard` detects the language; the action that answers a
``non_english`` message builds its reply with :func:`reply_for_language`.
"""

# Foreign letters and punctuation (fullwidth colon, Devanagari full stop) are the point here.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["reply_for_language"]


@dataclass(frozen=True)
class _Phrase:
    sorry: str
    helper: str
    colon: str = ": "
    stop: str = "."
    joiner: str = " "


_PHRASES: dict[str, _Phrase] = {
    "en": _Phrase("Sorry, this service works in English.", "A librarian may be able to help"),
    "zh": _Phrase("抱歉，本服务仅支持英文。", "图书馆员也许可以帮助您", "：", "。", ""),
    "ja": _Phrase(
        "申し訳ありませんが、このサービスは英語でのみご利用いただけます。",
        "図書館員がお手伝いできるかもしれません",
        "：",
        "。",
        "",
    ),
    "ko": _Phrase(
        "죄송합니다. 이 서비스는 영어로만 이용하실 수 있습니다.", "사서가 도와드릴 수 있을 것입니다"
    ),
    "ar": _Phrase(
        "عذرًا، هذه الخدمة متاحة باللغة الإنجليزية فقط.", "قد يتمكن أحد أمناء المكتبة من مساعدتك"
    ),
    "ru": _Phrase(
        "Извините, этот сервис работает только на английском языке.",
        "Вам может помочь библиотекарь",
    ),
    "uk": _Phrase(
        "Вибачте, цей сервіс працює лише англійською мовою.", "Вам може допомогти бібліотекар"
    ),
    "es": _Phrase(
        "Lo sentimos, este servicio funciona en inglés.", "Un bibliotecario podría ayudarle"
    ),
    "fr": _Phrase(
        "Désolé, ce service fonctionne en anglais.",
        "Un bibliothécaire pourra peut-être vous aider",
        " : ",
    ),
    "de": _Phrase(
        "Entschuldigung, dieser Dienst funktioniert nur auf Englisch.",
        "Das Bibliotheksteam kann Ihnen vielleicht helfen",
    ),
    "it": _Phrase(
        "Ci dispiace, questo servizio funziona in inglese.", "Un bibliotecario potrebbe aiutarla"
    ),
    "pt": _Phrase(
        "Desculpe, este serviço funciona em inglês.", "Um bibliotecário talvez possa ajudar"
    ),
    "nl": _Phrase(
        "Sorry, deze dienst werkt in het Engels.", "Een bibliothecaris kan u misschien helpen"
    ),
    "pl": _Phrase(
        "Przepraszamy, ta usługa działa w języku angielskim.",
        "Być może pomoże Państwu bibliotekarz",
    ),
    "tr": _Phrase(
        "Üzgünüz, bu hizmet yalnızca İngilizce olarak sunulmaktadır.",
        "Bir kütüphaneci size yardımcı olabilir",
    ),
    "el": _Phrase(
        "Λυπούμαστε, αυτή η υπηρεσία λειτουργεί στα αγγλικά.",
        "Ένας βιβλιοθηκονόμος ίσως μπορεί να σας βοηθήσει",
    ),
    "hi": _Phrase(
        "क्षमा करें, यह सेवा अंग्रेज़ी में काम करती है।", "कोई लाइब्रेरियन आपकी मदद कर सकता है", ": ", "।"
    ),
    "he": _Phrase("מצטערים, השירות הזה פועל באנגלית בלבד.", "ייתכן שצוות הספרייה יוכל לעזור"),
    "th": _Phrase("ขออภัย บริการนี้ใช้งานได้เป็นภาษาอังกฤษเท่านั้น", "บรรณารักษ์อาจช่วยคุณได้", ": ", ""),
}


def _sentence(phrase: _Phrase, contact: str) -> str:
    ending = f"{phrase.colon}{contact}" if contact else phrase.stop
    return f"{phrase.sorry}{phrase.joiner}{phrase.helper}{ending}"


def reply_for_language(code: str, contact: str = "") -> str:
    """The "this service works in English" reply, in English and the reader's language.

    Args:
        code: The detected language code (see ``language_guard.detect_language``).
        contact: How to reach a librarian (an email address, phone number or
            URL), appended after a colon in every language. Without it the
            sentence ends "A librarian may be able to help."

    Returns:
        The English sentence, then on the next line the same sentence in the
        reader's language. Unknown codes, ``"en"`` and ``"und"`` get English only.
    """
    contact = contact.strip()
    english = _sentence(_PHRASES["en"], contact)
    phrase = _PHRASES.get(code.strip().lower().split("-")[0])
    if phrase is None or phrase is _PHRASES["en"]:
        return english
    return f"{english}\n{_sentence(phrase, contact)}"
