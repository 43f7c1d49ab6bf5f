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
from bot.views.text import clip, safe

ADD_ACTIONS = {Kind.WIN: Action.CARD_ADD_WIN, Kind.OPPORTUNITY: Action.CARD_ADD_OPPORTUNITY,
               Kind.LESSON: Action.CARD_ADD_LESSON}
KIND_FROM_ACTION = {action.value: kind for kind, action in ADD_ACTIONS.items()}
PLURAL = {Kind.WIN: "Wins", Kind.OPPORTUNITY: "Opportunities", Kind.LESSON: "Lessons"}
SECTION_LIMIT = 3000
ITEM_LIMIT = 500  # escaped, it still fits a section
MAX_BLOCKS = 45  # Slack takes 50 a message; room for the title and the closing note


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
    state = (f"Closed by <@{card.closed_by}>: the debrief is in the thread" if closed else
             "Add to it with the buttons, or pick it in `/debrief`; entries gather in the "
             "thread")
    blocks: list[SlackBlock] = [
        SectionBlock(block_id=Block.CARD, text=MarkdownTextObject(
            text=f":card_index: *{safe(card.title)}*")),
        SectionBlock(text=MarkdownTextObject(text=tally_line(tally))),
        ContextBlock(elements=[MarkdownTextObject(
            text=f"Card {card.id} · opened by <@{card.opened_by}> · {state}")]),
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
    text = safe(clip(" ".join(item.text.split()), ITEM_LIMIT))
    return f"• {text} — {who}{clap}"


def card_debrief(card: Card, items: list[DebriefItem], card_applause: int,
                 thanks: str | None = None) -> dict:
    """What was learned on a card, by kind, the most applauded first; `thanks` names its
    contributors (views/collaborators.py)."""
    blocks: list[SlackBlock] = [SectionBlock(text=MarkdownTextObject(
        text=f":checkered_flag: *Debrief of {safe(card.title)}*"))]
    # Sections of at most SECTION_LIMIT characters, with how many entries each holds.
    sections: list[tuple[str, int]] = []
    for kind in Kind:
        group = [i for i in items if i.kind == kind]
        if not group:
            continue
        text, count = f"*{KIND_EMOJI[kind]} {PLURAL[kind]} ({len(group)})*", 0
        for item in group:
            line = _item_line(item)
            if len(text) + 1 + len(line) > SECTION_LIMIT:
                sections.append((text, count))
                text, count = line, 1
            else:
                text, count = text + "\n" + line, count + 1
        sections.append((text, count))
    kept, dropped = sections[:MAX_BLOCKS], sections[MAX_BLOCKS:]
    blocks += [SectionBlock(text=MarkdownTextObject(text=text)) for text, _ in kept]
    left_out = sum(count for _, count in dropped)
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="Nothing was logged on this card. Next time, add wins, opportunities and "
                 "lessons as the work goes.")))
    if thanks:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=thanks)]))
    notes = [f"Card {card.id} closed by <@{card.closed_by}>"]
    if card_applause:
        notes.append(f":clap: {card_applause} on the card itself")
    if left_out:
        notes.append(f"{left_out} more not shown: `/debrief export` has them all")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]))
    counts = {kind: sum(1 for i in items if i.kind == kind) for kind in Kind}
    fallback = (f"Debrief of the card {safe(card.title)}: "
                + ", ".join(f"{counts[k]} {PLURAL[k].lower()}" for k in Kind))
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}
