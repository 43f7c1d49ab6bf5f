"""Search results and related lessons, as ephemeral mrkdwn text."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.db.models import Entry, Kind, Visibility
from bot.ids import Action, Callback
from bot.ids import Block as BlockId
from bot.services.lookback import links
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.text import SECTION_TEXT, clip, pack, safe, web_link

PREVIEW = 200
DOCS = 3  # links shown per entry


def permalink(channel_id: str, ts: str) -> str:
    """A message link built without asking Slack: for entries posted before Slack's own
    link was kept (it does not open a reply in its thread)."""
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def message_link(channel_id: str | None, ts: str | None, stored: str | None) -> str | None:
    """Where a posted message is: Slack's permalink, kept when it was posted (a reply in
    a card's thread opens in the thread), else one built from its channel and ts; None
    when it was never posted."""
    if stored:
        return stored
    if channel_id and ts:
        return permalink(channel_id, ts)
    return None


def entry_link(entry: Entry) -> str | None:
    """The link to an entry's message, if it has one."""
    return message_link(entry.message_channel_id, entry.message_ts, entry.message_permalink)


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
    elif (link := entry_link(entry)) is not None:
        where = f"<#{entry.message_channel_id or entry.channel_id}> · <{link}|open>"
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


NARROWED = ("_Slack did not tell me just now which channels you are in, so I searched only "
            "your own entries and this channel's._")


def _result_lines(query: str, hits: Sequence[Entry], viewer_id: str,
                  narrowed: bool) -> list[str]:
    shown = safe(clip(query.strip(), 100))
    if not hits:
        lines = [f":mag: Nothing found for *{shown}* among the entries you can see. "
                 "Try fewer or other words."]
    else:
        lines = [f":mag: {len(hits)} best match{'es' if len(hits) != 1 else ''} for "
                 f"*{shown}*:"]
        lines += [hit_line(entry, viewer_id) for entry in hits]
    return lines + [NARROWED] if narrowed else lines


def results(query: str, hits: Sequence[Entry], viewer_id: str, *,
            narrowed: bool = False) -> str:
    """The answer to `/debrief search QUERY`; `narrowed`: Slack did not say what else the
    viewer may read, so only their own and this channel's entries were searched."""
    return "\n".join(_result_lines(query, hits, viewer_id, narrowed))


def results_message(query: str, hits: Sequence[Entry], viewer_id: str, *,
                    narrowed: bool = False) -> dict:
    """`results` as a message: its text, and sections that show it verbatim (Slack never
    turns a name, a channel or an address people wrote, or searched for, into a link)."""
    lines = _result_lines(query, hits, viewer_id, narrowed)
    blocks = [SectionBlock(text=MarkdownTextObject(text=text, verbatim=True)).to_dict()
              for text in pack([clip(line, SECTION_TEXT) for line in lines])]
    return {"text": "\n".join(lines), "blocks": blocks}


def search_modal(query: str = "", hits: Sequence[Entry] | None = None,
                 viewer_id: str = "") -> View:
    """Search from the App Home: a field, and once submitted the best matches under it
    (the field keeps the query, to search again)."""
    blocks: list[Block] = [InputBlock(
        block_id=BlockId.SEARCH, label="Search the learnings you can see",
        hint="Every word must match; #tags work too.",
        element=PlainTextInputElement(action_id=Action.SEARCH, placeholder="rollback #deploy",
                                      initial_value=query or None, max_length=200))]
    if hits is not None:
        shown = safe(clip(query.strip(), 100))
        if not hits:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=(
                f":mag: Nothing found for *{shown}* among the entries you can see. Try "
                "fewer or other words."), verbatim=True)))
        else:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=(
                f":mag: {len(hits)} best match{'es' if len(hits) != 1 else ''} for "
                f"*{shown}*:"), verbatim=True)))
            blocks += [SectionBlock(text=MarkdownTextObject(text=hit_line(entry, viewer_id),
                                                            verbatim=True))
                       for entry in hits]
    return View(type="modal", callback_id=Callback.SEARCH_MODAL, title="Search",
                submit="Search", close="Close", blocks=blocks)


def related_lessons(hits: Sequence[Entry], viewer_id: str) -> str:
    """"Have we learned this before?": appended to the author's confirmation."""
    if not hits:
        return ""
    lines = ["\n:books: *Have we learned this before?* Earlier entries that look related:"]
    lines += [hit_line(entry, viewer_id) for entry in hits]
    return "\n".join(lines)
