"""Showing what people typed, safely and within Slack's limits: it can never ping, mention
or forge a link, and however it grows once escaped, Slack takes the message that shows it.

Escaping makes text longer: `&` becomes five characters, `<` and `>` four. An entry of
3,000 characters can thus grow past a section's 3,000, and past what one message's blocks
hold in all (Slack answers msg_blocks_too_long above about 12,000 characters of text; the
limit is not documented, so we stay well under it). Slack counts characters as UTF-16
code units: an emoji may count twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

# Slack reads <...> as links, mentions and broadcasts; escaping these three characters
# is all Slack asks for (api.slack.com/reference/surfaces/formatting#escaping).
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Without link_names Slack does not resolve a bare "@here", but a zero-width space keeps
# it inert even if a client or a later change turns link resolution on.
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)

SECTION_TEXT = 3000  # a section block's text
MESSAGE_BLOCKS = 50
MESSAGE_TEXT = 11_000  # all the text of one message's blocks (Slack refuses ~12,000)
# What one character can become once safe: an @ may gain a zero-width space.
_COST = {"&": 5, "<": 4, ">": 4, "@": 2}


def safe(text: str) -> str:
    """Text as typed, made inert for mrkdwn."""
    return _BROADCAST.sub("@\u200b\\1", text.translate(_ESCAPES))


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters with an ellipsis, for previews."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def width(text: str) -> int:
    """Its length as Slack counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _cost(char: str) -> int:
    return _COST.get(char, 2 if ord(char) > 0xFFFF else 1)


def safe_pieces(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """`safe(text)` in pieces of at most `limit` characters each (one section each), cut
    after a line break or a space near the limit where there is one, never inside an
    escape. Joined, they are `safe(text)` (but for pieces that are only white space)."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end, used = start, 0
        while end < len(text) and used + _cost(text[end]) <= limit:
            used += _cost(text[end])
            end += 1
        if end < len(text):
            end = _break(text, start, end)
        if text[start:end].strip():
            pieces.append(safe(text[start:end]))
        start = end
    return pieces


def _break(text: str, start: int, end: int) -> int:
    """Where to end a piece that cannot hold text[start:]: after the last line break or
    space in the second half of text[start:end], or at `end` if it has none."""
    half = start + (end - start) // 2
    for mark in ("\n", " "):
        at = text.rfind(mark, half, end)
        if at != -1:
            return at + 1
    return end


def safe_preview(text: str, limit: int) -> str:
    """The start of `text`, made safe, in at most `limit` characters: shortened, near a
    space if it can be, with an ellipsis."""
    if sum(_cost(char) for char in text) <= limit:
        return safe(text)
    pieces = safe_pieces(text, limit - 1)  # room for the ellipsis
    return (pieces[0].rstrip() if pieces else "") + "…"


def pack(lines: Iterable[str], limit: int = SECTION_TEXT) -> list[str]:
    """Lines (each at most `limit` characters) joined into as few texts of at most
    `limit` characters as they fit in, one section each."""
    texts: list[str] = []
    for line in lines:
        if texts and width(texts[-1]) + 1 + width(line) <= limit:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return texts


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def text_width(blocks: Sequence[dict[str, Any]]) -> int:
    """How much text a message's blocks hold in all, as Slack counts it."""
    return sum(width(text) for text in _texts(list(blocks)))


def fits(blocks: Sequence[dict[str, Any]]) -> bool:
    """Whether Slack takes a message with these blocks (as dicts)."""
    return len(blocks) <= MESSAGE_BLOCKS and text_width(blocks) <= MESSAGE_TEXT


def web_link(url: str, limit: int = 60) -> str:
    """A link to an http(s) address people wrote, labelled with that same address
    (shortened): it goes where it says. `url` holds no <, > or | (services/lookback.py)."""
    label = clip(url.split("://", 1)[-1], limit)
    return f"<{url.replace('&', '&amp;')}|{safe(label)}>"
