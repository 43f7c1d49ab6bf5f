"""The organisation digest: the weekly message, and the answers to /debrief digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.db.models import Digest, DigestRun, Kind
from bot.services.digest import USAGE, WEEKDAYS, Highlight
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.search import entry_link
from bot.views.text import safe_preview

# Each highlight's preview, escaped: five fit one message, and `open` shows the whole entry.
PREVIEW = 600


def _when(digest: Digest) -> str:
    hours, minutes = divmod(digest.minute_of_day, 60)
    return f"every {WEEKDAYS[digest.weekday].capitalize()} at {hours:02d}:{minutes:02d} " \
           f"({digest.timezone})"


def _date(moment: datetime) -> str:
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|" \
           f"{moment:%Y-%m-%d %H:%M} UTC>"


def scheduled(digest: Digest) -> str:
    return (f":newspaper: The organisation digest will be posted in <#{digest.channel_id}> "
            f"{_when(digest)}: the week's most applauded org-visible learnings. "
            f"Next: {_date(digest.next_run_at)}.")


def status(digest: Digest | None) -> str:
    if digest is None:
        return f":newspaper: No organisation digest is scheduled. Start one with {USAGE}."
    return (f":newspaper: The organisation digest is posted in <#{digest.channel_id}> "
            f"{_when(digest)}; next: {_date(digest.next_run_at)}. "
            "`/debrief digest off` stops it.")


def stopped(was_there: bool) -> str:
    return ":newspaper: The organisation digest is stopped." if was_there \
        else ":newspaper: There was no organisation digest to stop."


def _highlight(rank: int, item: Highlight) -> str:
    entry = item.entry
    kind = Kind(entry.kind)
    # Anonymous stays anonymous in front of the whole organisation.
    who = "a teammate, anonymously" if entry.anonymous else f"<@{entry.author_id}>"
    where = f"<#{entry.channel_id}>"
    if (link := entry_link(entry)) is not None:
        where = f"<#{entry.message_channel_id or entry.channel_id}> · <{link}|open>"
    claps = f"{item.applause} applause"
    text = safe_preview(entry.text, PREVIEW)
    return (f"*{rank}.* {KIND_EMOJI[kind]} *{KIND_LABEL[kind]}* from {who} · {where} · "
            f"{claps}\n{text}")


def digest_message(run: DigestRun, items: Sequence[Highlight]) -> dict:
    """The weekly post: the most applauded org-visible learnings, best first."""
    since = f"<!date^{int(run.period_start.timestamp())}^{{date_short}}|" \
            f"{run.period_start:%Y-%m-%d}>"
    blocks: list[Block] = [HeaderBlock(text="This week's learnings across the organisation")]
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="No org-visible learnings were applauded this week. Share one with "
                 "`/debrief` and choose *Organisation*.")))
    for rank, item in enumerate(items, 1):
        # Verbatim: Slack never turns a name, channel or address people wrote into a link.
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_highlight(rank, item),
                                                           verbatim=True)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=f"Most applauded since {since} · only entries shared with the organisation")]))
    fallback = f"This week's learnings across the organisation: {len(items)} highlight(s)"
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}
