"""Pure translation between Rasa bot messages and Slack's Block Kit, and back.

Nothing here talks to the network, so unit tests call these functions directly.

Outbound, a bot message becomes ``blocks`` (built with ``slack_sdk.models.blocks``,
which checks Slack's limits) plus a plain ``text`` fallback that Slack shows in
notifications and in clients that cannot draw blocks:

- text becomes ``section`` blocks (mrkdwn, with ``&``, ``<`` and ``>`` escaped, so
  nothing a reader typed can turn into a mention or a link); bullet lines (our
  catalogue results) get one section each, with the title in bold;
- buttons become an ``actions`` block of Block Kit buttons whose ``value`` is the
  Rasa payload and whose ``action_id`` is ``ric_button_<n>``; link buttons open
  their URL and have ``action_id`` ``ric_link_<n>``;
- cards (``elements``) become one section each, followed by their buttons.

Inbound, :func:`plain_text` turns Slack's escaped message text (``&lt;``,
``<https://…|label>``, ``<@U123>``) back into what the reader saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from connectors.shared import button_url, custom_text, own_part

__all__ = [
    "BUTTON_PREFIX",
    "LINK_PREFIX",
    "button_elements",
    "custom_message",
    "element_message",
    "escape",
    "fallback_text",
    "message_blocks",
    "plain_text",
    "text_blocks",
]

SECTION_CHARS = 3000
BUTTON_TITLE_CHARS = 75
BUTTON_VALUE_CHARS = 2000
BUTTONS_PER_BLOCK = 25
MAX_BLOCKS = 50
BUTTON_PREFIX = "ric_button_"
LINK_PREFIX = "ric_link_"
BULLETS = ("• ", "- ", "* ")

_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack message text as the reader saw it: links and mentions resolved, unescaped.

    A mention of the bot itself is removed (it is how the reader addressed us).
    """

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if bot_user_id and target == f"@{bot_user_id}":
            return ""
        if target.startswith(("#", "@", "!")):
            return label or target
        return f"{label} ({target})" if label and label != target else target

    resolved = _SLACK_LINK.sub(link, text)
    resolved = resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]{2,}", " ", resolved).strip()


def button_elements(buttons: Sequence[Mapping[str, Any]]) -> list[ButtonElement]:
    """Block Kit button elements for Rasa buttons."""
    elements: list[ButtonElement] = []
    for number, button in enumerate(buttons):
        title = str(button.get("title") or button.get("payload") or "?")[:BUTTON_TITLE_CHARS]
        text = PlainTextObject(text=title, emoji=True)
        url = button_url(button)
        payload = button.get("payload")
        if url is not None:
            elements.append(ButtonElement(text=text, action_id=f"{LINK_PREFIX}{number}", url=url))
        elif isinstance(payload, str) and payload:
            elements.append(
                ButtonElement(
                    text=text,
                    action_id=f"{BUTTON_PREFIX}{number}",
                    value=payload[:BUTTON_VALUE_CHARS],
                )
            )
    return elements


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:SECTION_CHARS]))


def _chunks(text: str, limit: int = SECTION_CHARS) -> list[str]:
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text.strip():
        parts.append(text)
    return parts


def _bullet_section(line: str) -> SectionBlock:
    item = line[2:].strip()
    title, dash, rest = item.partition(" — ")
    if dash and title:
        return _section(f"• *{escape(title)}* — {escape(rest)}")
    return _section(f"• {escape(item)}")


def text_blocks(text: str) -> list[Block]:
    """Sections for ``text``: paragraphs as they are, each bullet line on its own."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.extend(_section(chunk) for chunk in _chunks(escape("\n".join(paragraph))))
            paragraph.clear()

    for line in text.strip().splitlines():
        if line.startswith(BULLETS) and len(line) > 2:
            flush()
            blocks.append(_bullet_section(line))
        else:
            paragraph.append(line)
    flush()
    return blocks


def message_blocks(text: str, buttons: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Blocks, as the JSON ``chat.postMessage`` takes, for a text with optional buttons."""
    blocks = text_blocks(text)
    elements = button_elements(buttons)
    for start in range(0, len(elements), BUTTONS_PER_BLOCK):
        blocks.append(ActionsBlock(elements=elements[start : start + BUTTONS_PER_BLOCK]))
    return [block.to_dict() for block in blocks[:MAX_BLOCKS]]


def fallback_text(text: str, buttons: Sequence[Mapping[str, Any]] = ()) -> str:
    """The readable plain version: the text, then the choices on their own lines."""
    lines = [escape(text.strip())] if text.strip() else []
    titles = [str(b.get("title") or b.get("payload") or "") for b in buttons]
    if titles:
        lines.append("Choices: " + " | ".join(escape(t) for t in titles if t))
    return "\n".join(lines) or " "


def element_message(elements: Iterable[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Cards as a bullet list (one section each when rendered) and their buttons."""
    lines: list[str] = []
    buttons: list[dict[str, Any]] = []
    for element in elements:
        title = str(element.get("title") or "").strip()
        subtitle = str(element.get("subtitle") or "").strip()
        url = element.get("item_url") or (element.get("default_action") or {}).get("url")
        line = f"• {title}" + (f" — {subtitle}" if subtitle else "")
        if isinstance(url, str) and url:
            line += f" {url}" if subtitle else f" — {url}"
        lines.append(line)
        buttons.extend(dict(b) for b in element.get("buttons") or [] if isinstance(b, Mapping))
    return "\n".join(lines), buttons


def custom_message(
    custom: Mapping[str, Any],
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Text, buttons and (for Slack-native messages) ready blocks for a custom JSON message.

    A ``slack`` key or a top-level ``blocks`` list is passed through as Block Kit;
    otherwise ``text``/``buttons`` and ``elements``/``results`` are rendered, and
    anything else is shown as ``key: value`` lines rather than raw JSON.
    """
    source = own_part(custom, "slack")
    blocks = source.get("blocks")
    if isinstance(blocks, list):
        return str(source.get("text") or ""), [], [b for b in blocks if isinstance(b, dict)]
    text, buttons = custom_text(source, element_message)
    return text, buttons, None
