"""Slash-command text as the person typed it.

`/debrief` is registered with `should_escape: true` (manifest.yml), so Slack sends
mentions, channels and links in its markup (`<@U123|ana>`, `<#C123|general>`, `<!here>`,
`<https://x.io|x.io>`) and escapes a typed `&`, `<` and `>`. Entries store what the person
typed, so the markup is turned back into the words they saw on screen; a link whose label
is not its own address keeps the address too, as `label (address)`, so it is never lost
and a label can never pass for another address.
"""

from __future__ import annotations

import html
import re

from bot.services.rotation import MENTION

_MARKUP = re.compile(r"<([^<>]*)>")
_BROADCASTS = {"here", "channel", "everyone"}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(//)?", re.IGNORECASE)


def _typed(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):  # a user: <@U123|ana>
        return "@" + (label or target[1:])
    if target.startswith("#"):  # a channel: <#C123|general>
        return "#" + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@devs>, <!date^…|fallback>
        name = target[1:]
        if name in _BROADCASTS:
            return "@" + name
        return label or name
    return _link(target, label)


def _link(address: str, label: str) -> str:
    """A link as it was typed: its label, followed by its address unless the label is
    the address (`x.io` typed, linked as `http://x.io`)."""
    if not label or _bare(label) == _bare(address):
        return label or address
    return f"{label} ({address})"


def _bare(address: str) -> str:
    return _SCHEME.sub("", address).rstrip("/")


def typed_text(escaped: str) -> str:
    """The text a person typed, from Slack's escaped slash-command text."""
    return html.unescape(_MARKUP.sub(_typed, escaped)) if escaped else escaped


_TRAILING_MENTION = re.compile(r"\s*" + MENTION.pattern + r"\s*$")


def trailing_mentions(escaped: str) -> tuple[str, list[str]]:
    """Escaped command text without the mentions it ends with, and their user ids in the
    order typed (`Launch it <@U1|ana> <@U2|ben>` -> `Launch it`, [U1, U2])."""
    found: list[str] = []
    while (match := _TRAILING_MENTION.search(escaped)) is not None:
        found.insert(0, match.group(1))
        escaped = escaped[:match.start()]
    return escaped, list(dict.fromkeys(found))
