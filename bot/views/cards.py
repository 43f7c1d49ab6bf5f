"""How a deliverable card looks: its message with tallies and add buttons, and its debrief."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.blocks import (
    Block as SlackBlock,
)

from bot.db.models import Card, CardStatus, Kind
from bot.ids import Action, Block
from bot.services.cards import DebriefItem, Tally
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.text import MESSAGE_TEXT, SECTION_TEXT, pack, safe, safe_preview, width

ADD_ACTIONS = {Kind.WIN: Action.CARD_ADD_WIN, Kind.OPPORTUNITY: Action.CARD_ADD_OPPORTUNITY,
               Kind.LESSON: Action.CARD_ADD_LESSON}
KIND_FROM_ACTION = {action.value: kind for kind, action in ADD_ACTIONS.items()}
PLURAL = {Kind.WIN: "Wins", Kind.OPPORTUNITY: "Opportunities", Kind.LESSON: "Lessons"}
ITEM_LIMIT = 500  # an entry's preview, escaped
NOTES_ROOM = 300  # the closing note, and the "nothing was logged" section


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def tally_line(tally: Tally) -> str:
    return " · ".join([
        f"{KIND_EMOJI[Kind.WIN]} {_count(tally.wins, 'win', 'wins')}",
        f"{KIND_EMOJI[Kind.OPPORTUNITY]} "
        f"{_count(tally.opportunities, 'opportunity', 'opportunities')}",
        f"{KIND_EMOJI[Kind.LESSON]} {_count(tally.lessons, 'lesson', 'lessons')}",
        f":clap: {_count(tally.applause, 'applause', 'applause')}",
    ])


def card_message(card: Card, tally: Tally, people: Sequence[SlackBlock] = ()) -> dict:
    """The card's channel message: title, tallies, while open one button per kind, and
    its `people` (views/collaborators.py)."""
    closed = card.status == CardStatus.CLOSED
    closer = f" by <@{card.closed_by}>" if card.closed_by else ""
    opener = f"opened by <@{card.opened_by}>" if card.opened_by else "opened"
    state = (f"Closed{closer}: the debrief is in the thread" if closed else
             "Add to it with the buttons, or pick it in `/debrief`; entries gather in the "
             "thread")
    blocks: list[SlackBlock] = [
        SectionBlock(block_id=Block.CARD, text=MarkdownTextObject(
            text=f":card_index: *{safe(card.title)}*", verbatim=True)),
        SectionBlock(text=MarkdownTextObject(text=tally_line(tally))),
        ContextBlock(elements=[MarkdownTextObject(
            text=f"Card {card.id} · {opener} · {state}")]),
    ]
    if not closed:
        blocks.append(ActionsBlock(block_id=Block.CARD_ADD, elements=[
            ButtonElement(action_id=ADD_ACTIONS[kind], value=str(card.id),
                          text=f"Add {KIND_LABEL[kind].lower()}")
            for kind in Kind
        ]))
    blocks += people
    prefix = "Closed card" if closed else "Card"
    fallback = f"{prefix}: {safe(card.title)} ({tally_line(tally)})"
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}


def _item_line(item: DebriefItem) -> str:
    who = "anonymous" if item.author_id is None else f"<@{item.author_id}>"
    clap = f" · :clap: {item.applause}" if item.applause else ""
    # A preview: each entry is in full in the card's thread.
    text = safe_preview(" ".join(item.text.split()), ITEM_LIMIT)
    return f"• {text} — {who}{clap}"


def card_debrief(card: Card, items: list[DebriefItem], card_applause: int,
                 thanks: str | None = None) -> dict:
    """What was learned on a card, by kind, the most applauded first; as much as one
    message holds, and how many more `/debrief export` has; `thanks` names its
    contributors (views/collaborators.py)."""
    title = f":checkered_flag: *Debrief of {safe(card.title)}*"
    room = MESSAGE_TEXT - width(title) - NOTES_ROOM
    lines: list[str] = []
    left_out, full = 0, False
    for kind in Kind:
        group = [i for i in items if i.kind == kind]
        if not group:
            continue
        for n, line in enumerate([f"*{KIND_EMOJI[kind]} {PLURAL[kind]} ({len(group)})*",
                                  *map(_item_line, group)]):
            full = full or width(line) + 1 > room
            if full:  # this and everything after it
                left_out += 1 if n else 0  # a heading is not an entry
                continue
            lines.append(line)
            room -= width(line) + 1
    # Verbatim: Slack never turns a name, channel or address people wrote into a link.
    blocks: list[SlackBlock] = [SectionBlock(text=MarkdownTextObject(text=title,
                                                                     verbatim=True))]
    blocks += [SectionBlock(text=MarkdownTextObject(text=text, verbatim=True))
               for text in pack(lines, SECTION_TEXT)]
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="Nothing was logged on this card. Next time, add wins, opportunities and "
                 "lessons as the work goes.")))
    if thanks:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=thanks)]))
    notes = [f"Card {card.id} closed" + (f" by <@{card.closed_by}>" if card.closed_by else "")]
    if card_applause:
        notes.append(f":clap: {card_applause} on the card itself")
    if left_out:
        notes.append(f"{left_out} more not shown: `/debrief export` has them all")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]))
    counts = {kind: sum(1 for i in items if i.kind == kind) for kind in Kind}
    fallback = (f"Debrief of the card {safe(card.title)}: "
                + ", ".join(f"{counts[k]} {PLURAL[k].lower()}" for k in Kind))
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}
