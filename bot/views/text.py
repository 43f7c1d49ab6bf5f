"""Showing what people typed, safely: it can never ping, mention or forge a link."""

from __future__ import annotations

import re

# Slack reads <...> as links, mentions and broadcasts; escaping these three characters
# is all Slack asks for (api.slack.com/reference/surfaces/formatting#escaping).
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Without link_names Slack does not resolve a bare "@here", but a zero-width space keeps
# it inert even if a client or a later change turns link resolution on.
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def safe(text: str) -> str:
    """Text as typed, made inert for mrkdwn."""
    return _BROADCAST.sub("@\u200b\\1", text.translate(_ESCAPES))


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters with an ellipsis, for previews."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def web_link(url: str, limit: int = 60) -> str:
    """A link to an http(s) address people wrote, labelled with that same address
    (shortened): it goes where it says. `url` holds no <, > or | (services/lookback.py)."""
    label = clip(url.split("://", 1)[-1], limit)
    return f"<{url.replace('&', '&amp;')}|{safe(label)}>"
