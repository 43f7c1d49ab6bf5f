"""The App Home tab: the person's own entries, applause, the team's latest learnings and
the next rotation turns. Always within Slack's 100 blocks, however much data there is."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.db.models import Kind, Visibility
from bot.services.home import EntryLine, Home
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.text import clip, safe

MAX_BLOCKS = 100
PREVIEW = 280
VISIBILITY_NOTE = {Visibility.PRIVATE: "private", Visibility.TEAM: "team",
                   Visibility.ORG: "organisation"}


def home_view(home: Home) -> View:
    blocks: list[Block] = [HeaderBlock(text="Debrief")]
    blocks.append(SectionBlock(text=MarkdownTextObject(text=(
        f":clap: *Applause* — received *{home.received}*, given *{home.given}*. "
        "React with any emoji to a teammate's entry to applaud it; "
        "`/debrief kudos` shows more in a channel."))))

    blocks += [DividerBlock(), HeaderBlock(text="Your recent entries")]
    if home.own_entries:
        blocks += [_entry(line, own=True) for line in home.own_entries]
    else:
        blocks.append(_note("Nothing yet: try `/debrief win shipped it` in a channel."))

    blocks += [DividerBlock(), HeaderBlock(text="Your reflections")]
    if home.reflections:
        blocks += [_note(f":lock: {line.created_at:%Y-%m-%d} — {safe(clip(line.preview, 200))}"
                         + (" · _shared_" if line.shared else ""), verbatim=True)
                   for line in home.reflections]
        blocks.append(_note(f"{home.reflections_total} in all, only you can read them: "
                            "`/hope history` to read or share one."))
    else:
        blocks.append(_note("None yet: `/hope` for a private look back."))

    blocks += [DividerBlock(), HeaderBlock(text="The team's latest learnings")]
    if home.team_learnings:
        blocks += [_entry(line, own=False) for line in home.team_learnings]
    else:
        blocks.append(_note("No learnings from your channels yet."))

    blocks += [DividerBlock(), HeaderBlock(text="Next rotation turns")]
    if home.turns:
        blocks += [_note(f"<#{turn.channel_id}> — <!date^{int(turn.starts_at.timestamp())}"
                         f"^{{date_short_pretty}} {{time}}|{turn.starts_at:%Y-%m-%d %H:%M} UTC>")
                   for turn in home.turns[:10]]
    else:
        blocks.append(_note("No turns coming up."))
    return View(type="home", blocks=_fit(blocks))


def _entry(line: EntryLine, *, own: bool) -> SectionBlock:
    kind = Kind(line.kind)
    if own:
        who = f"_{VISIBILITY_NOTE.get(Visibility(line.visibility), line.visibility)}_"
    else:
        who = "a teammate, anonymously" if line.author_id is None else f"<@{line.author_id}>"
    applause = f" · :clap: {line.applause}" if line.applause else ""
    head = (f"{KIND_EMOJI[kind]} *{KIND_LABEL[kind]}* · {who} · <#{line.channel_id}> · "
            f"{line.created_at:%Y-%m-%d}{applause}")
    return SectionBlock(text=MarkdownTextObject(
        text=f"{head}\n{safe(clip(line.text, PREVIEW))}", verbatim=True))


def _note(text: str, verbatim: bool = False) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text, verbatim=verbatim)])


def _fit(blocks: list[Block]) -> list[Block]:
    """Sections are capped above; this is the last guard against Slack's limit."""
    return blocks[:MAX_BLOCKS]
