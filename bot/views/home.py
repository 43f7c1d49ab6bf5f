"""The App Home tab: buttons for the forms, the person's own entries, applause, the
team's latest learnings and the next rotation turns; and the person's history, a page at
a time. Always within Slack's 100 blocks, however much data there is."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.db.models import Kind, Visibility
from bot.ids import Action, HopeAction
from bot.services.home import OWN_ENTRIES, EntryLine, Home, ReflectionLine
from bot.services.journal import Journal
from bot.views import checkback as checkback_views
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.search import message_link
from bot.views.text import clip, safe

MAX_BLOCKS = 100
PREVIEW = 280
VISIBILITY_NOTE = {Visibility.PRIVATE: "private", Visibility.TEAM: "team",
                   Visibility.ORG: "organisation"}


def home_view(home: Home) -> View:
    blocks: list[Block] = [HeaderBlock(text="Debrief"), home_actions()]
    blocks.append(SectionBlock(text=MarkdownTextObject(text=(
        f":clap: *Applause* — received *{home.received}*, given *{home.given}*. "
        "React with any emoji to a teammate's entry to applaud it; "
        "`/debrief kudos` shows more in a channel."))))

    blocks += [DividerBlock(), HeaderBlock(text="Your recent entries")]
    if home.own_entries:
        blocks += [_entry(line, own=True) for line in home.own_entries]
        if len(home.own_entries) >= OWN_ENTRIES:
            blocks.append(_note("Older ones, and your reflections with them: *My history*."))
    else:
        blocks.append(_note("Nothing yet: try `/debrief win shipped it` in a channel."))

    blocks += [DividerBlock(), *checkback_views.home_blocks(home.open_opportunities,
                                                           home.open_opportunities_total)]

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
    link = message_link(line.message_channel_id, line.message_ts, line.permalink)
    opened = f" · <{link}|open>" if link else ""
    head = (f"{KIND_EMOJI[kind]} *{KIND_LABEL[kind]}* · {who} · <#{line.channel_id}> · "
            f"{line.created_at:%Y-%m-%d}{applause}{opened}")
    return SectionBlock(text=MarkdownTextObject(
        text=f"{head}\n{safe(clip(line.text, PREVIEW))}", verbatim=True))


def _note(text: str, verbatim: bool = False) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text, verbatim=verbatim)])


def _fit(blocks: list[Block]) -> list[Block]:
    """Sections are capped above; this is the last guard against Slack's limit."""
    return blocks[:MAX_BLOCKS]


def page_action(name: str) -> str:
    """The action id of a button that shows a page of the Home (its value: the page)."""
    return f"{Action.HOME_PAGE}_{name}"


def home_actions() -> ActionsBlock:
    """The Home's buttons: the Debrief form (it asks for the channel), a HOPE reflection,
    search, and the person's history."""
    return ActionsBlock(elements=[
        ButtonElement(text="Log a learning", action_id=Action.OPEN_ENTRY_MODAL,
                      style="primary"),
        ButtonElement(text="Reflect", action_id=HopeAction.OPEN),
        ButtonElement(text="Search", action_id=Action.OPEN_SEARCH),
        ButtonElement(text="My history", action_id=page_action("history"), value="1"),
    ])


def journal_view(journal: Journal) -> View:
    """A page of the person's history: their entries and reflections, newest first, with
    "‹ Newer" / "Older ›" to page through it and a way back to the Home."""
    blocks: list[Block] = [HeaderBlock(text="Your history"), home_actions()]
    if journal.total:
        blocks.append(_note(
            f"Everything you wrote, entries and reflections, newest first: {journal.total} "
            f"in all. Page {journal.page} of {journal.pages}. Only you see this page."))
    else:
        blocks.append(_note("Nothing yet: *Log a learning* or *Reflect* above, or "
                            "`/debrief win shipped it` in a channel."))
    for item in journal.items:
        if isinstance(item, ReflectionLine):
            blocks.append(_reflection(item))
        else:
            blocks.append(_entry(item, own=True))
    nav = []
    if journal.page > 1:
        nav.append(ButtonElement(text="‹ Newer", action_id=page_action("newer"),
                                 value=str(journal.page - 1)))
    if journal.page < journal.pages:
        nav.append(ButtonElement(text="Older ›", action_id=page_action("older"),
                                 value=str(journal.page + 1)))
    nav.append(ButtonElement(text="Back to Home", action_id=page_action("home"), value="0"))
    blocks.append(ActionsBlock(elements=nav))
    return View(type="home", blocks=_fit(blocks))


def _reflection(line: ReflectionLine) -> SectionBlock:
    shared = " · _shared_" if line.shared else ""
    return SectionBlock(
        text=MarkdownTextObject(text=(
            f":lock: *Reflection* · {line.created_at:%Y-%m-%d}{shared}\n"
            f"{safe(clip(line.preview, PREVIEW))}"), verbatim=True),
        accessory=ButtonElement(text="Read", action_id=HopeAction.READ, value=str(line.id)))
