"""Search results and related lessons, as ephemeral mrkdwn text."""

from __future__ import annotations

from collections.abc import Sequence

from bot.db.models import Entry, Kind, Visibility
from bot.services.lookback import links
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.text import clip, safe, web_link

PREVIEW = 200
DOCS = 3  # links shown per entry


def permalink(channel_id: str, ts: str) -> str:
    """A message link built without asking Slack (chat.getPermalink is a Slack call)."""
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def _who(entry: Entry, viewer_id: str) -> str:
    if entry.author_id == viewer_id:
        return "you, anonymously" if entry.anonymous else "you"
    # An anonymous entry never names its author to anyone else.
    return "a teammate, anonymously" if entry.anonymous else f"<@{entry.author_id}>"


def hit_line(entry: Entry, viewer_id: str) -> str:
    """One result: kind, author (or not), where, when, a preview and a link."""
    kind = Kind(entry.kind)
    stamp = int(entry.created_at.timestamp())
    when = f"<!date^{stamp}^{{date_short}}|{entry.created_at:%Y-%m-%d}>"
    if entry.visibility == Visibility.PRIVATE:
        where = ":lock: private"
    elif entry.message_ts and entry.message_channel_id:
        link = permalink(entry.message_channel_id, entry.message_ts)
        where = f"<#{entry.message_channel_id}> · <{link}|open>"
    else:
        where = f"<#{entry.channel_id}>"
    if entry.visibility == Visibility.ORG:
        where += " · org"
    preview = safe(clip(" ".join(entry.text.split()), PREVIEW))
    line = (f"• {KIND_EMOJI[kind]} *{KIND_LABEL[kind]}* from {_who(entry, viewer_id)} · "
            f"{where} · {when}\n> {preview}")
    docs = links(entry.text)[:DOCS]
    if docs:  # the runbook or the postmortem it points to, whole, not only in the preview
        line += "\n> :page_facing_up: docs: " + " · ".join(web_link(url) for url in docs)
    return line


def results(query: str, hits: Sequence[Entry], viewer_id: str) -> str:
    """The answer to `/debrief search QUERY`."""
    shown = safe(clip(query.strip(), 100))
    if not hits:
        return (f":mag: Nothing found for *{shown}* among the entries you can see. "
                "Try fewer or other words.")
    lines = [f":mag: {len(hits)} best match{'es' if len(hits) != 1 else ''} for *{shown}*:"]
    lines += [hit_line(entry, viewer_id) for entry in hits]
    return "\n".join(lines)
