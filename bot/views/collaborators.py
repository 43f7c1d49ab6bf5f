"""Who a card asks, as people see it: the card's count and buttons, what its opener alone
sees, the close that asks first, the nudge and "ask" DMs, and `/debrief nudges`.

Names of people who have not added to a card appear in what its opener alone sees, and
nowhere else: everyone else reads counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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

from bot.db.models import Card, Kind
from bot.ids import Action, Block
from bot.services.cards import DebriefItem
from bot.services.collaborators import Asked, NotYet, Progress, Roster
from bot.views.cards import ADD_ACTIONS
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.text import safe

MAX_NAMED = 100
ASKS = {Kind.WIN: "what worked?", Kind.OPPORTUNITY: "what could have gone better?",
        Kind.LESSON: "what would you tell the next team?"}


def _people(users: Sequence[str]) -> str:
    names = [f"<@{u}>" for u in users]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def progress_line(progress: Progress) -> str:
    """"3 of 5 collaborators have added to its debrief": counts, never names."""
    if not progress.collaborators:
        line = ":busts_in_silhouette: No collaborators yet: *Join* to be asked for yours"
    else:
        have = "has" if progress.contributed == 1 else "have"
        line = (f":busts_in_silhouette: {progress.contributed} of "
                f"{_n(progress.collaborators, 'collaborator', 'collaborators')} {have} "
                "added to its debrief")
    if progress.anonymous:
        line += f" · {_n(progress.anonymous, 'anonymous entry', 'anonymous entries')}"
    return line


def card_people(card: Card, progress: Progress, open_: bool) -> list[SlackBlock]:
    """The card's collaborator line and, while it is open, Join · Leave · Who's in."""
    blocks: list[SlackBlock] = [ContextBlock(elements=[MarkdownTextObject(
        text=progress_line(progress))])]
    if open_:
        blocks.append(ActionsBlock(block_id=Block.CARD_PEOPLE, elements=[
            ButtonElement(action_id=Action.CARD_JOIN, value=str(card.id), text="Join"),
            ButtonElement(action_id=Action.CARD_LEAVE, value=str(card.id), text="Leave"),
            ButtonElement(action_id=Action.CARD_WHO, value=str(card.id), text="Who's in"),
        ]))
    return blocks


def contributors_line(items: Sequence[DebriefItem]) -> str | None:
    """Who the debrief thanks: named contributors, and "someone" for anonymous entries;
    never who did not contribute."""
    named = list(dict.fromkeys(i.author_id for i in items if i.author_id is not None))
    if not named and not any(i.author_id is None for i in items):
        return None
    who = [f"<@{u}>" for u in named[:MAX_NAMED]]
    if len(named) > MAX_NAMED:  # a context block holds 3,000 characters
        who.append(f"{len(named) - MAX_NAMED} more")
    if any(i.author_id is None for i in items):
        who.append("someone anonymously")
    joined = who[0] if len(who) == 1 else ", ".join(who[:-1]) + " and " + who[-1]
    return f":raised_hands: Contributors: {joined}"


def opened(card: Card, named: Sequence[str]) -> str:
    """The answer to `/debrief card TITLE @a @b`."""
    who = f" It asks {_people(named)} for their debrief." if named else \
        f" Name the people it should ask: `/debrief collaborators {card.id} add @ana @ben`; " \
        "anyone can press its *Join* button."
    return (f":card_index: Opened card {card.id}, “{safe(card.title)}”: it is being posted "
            f"here.{who} Anyone quiet on it for a while gets one nudge by DM (never on a "
            f"weekend or holiday). Close it with `/debrief close {card.id}` to post its "
            "debrief.")


def roster_text(card: Card, roster: Roster) -> str:
    """"Who's in": names of who has not added yet for the opener alone; counts for others."""
    title = f"“{safe(card.title)}” (card {card.id})"
    lines = [f"{progress_line(roster.progress)} — {title}."]
    if roster.waiting is not None and roster.contributed is not None:
        if roster.contributed:
            lines.append(f"Added to it: {_people(roster.contributed)}.")
        if roster.waiting:
            lines.append(f"Not yet (only you see this): {_people(roster.waiting)}.")
        lines.append(f"Add people: `/debrief collaborators {card.id} add @a @b`; take someone "
                     f"off: `/debrief collaborators {card.id} remove @a`.")
    else:
        lines.append("You are on it: press *Leave* to step off." if roster.member else
                     "You are not on it: press *Join* to be asked for your debrief.")
    return "\n".join(lines)


def close_prompt(pending: NotYet) -> dict:
    """`/debrief close` while collaborators have not added yet: Close anyway, Ask them first."""
    card = pending.card
    if pending.names is not None:
        who = f"{_people(pending.names)} {'has' if len(pending.names) == 1 else 'have'} " \
              "not added to its debrief yet (only you see who)."
    else:
        who = f"{_n(pending.waiting, 'collaborator has', 'collaborators have')} not added " \
              "to its debrief yet."
    text = f":hourglass: Card {card.id}, “{safe(card.title)}”: {who}"
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text, verbatim=True)),
        ActionsBlock(block_id=Block.CARD_CLOSING, elements=[
            ButtonElement(action_id=Action.CARD_ASK_FIRST, value=str(card.id),
                          text="Ask them first", style="primary"),
            ButtonElement(action_id=Action.CARD_CLOSE_ANYWAY, value=str(card.id),
                          text="Close anyway"),
        ]),
    ]
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def closed(card: Card) -> str:
    return (f":checkered_flag: Closed card {card.id}, “{safe(card.title)}”: its debrief is "
            "being posted in its thread.")


def asked(result: Asked) -> str:
    """After "Ask them first": names for the opener, counts for anyone else."""
    def who(users: Sequence[str]) -> str:
        return _people(users) if result.names_shown else \
            _n(len(users), "collaborator", "collaborators")

    parts = []
    if result.now:
        parts.append(f":envelope: Asked {who(result.now)} by DM for their debrief.")
    if result.before:
        were = "was" if len(result.before) == 1 else "were"
        parts.append(f"{who(result.before)} {were} asked before.")
    if not parts:
        parts.append("Everyone on it has added to its debrief now.")
    parts.append(f"Close it when you are ready: `/debrief close {result.card.id}` (or "
                 "*Close anyway* above).")
    return " ".join(parts)


def _add_buttons(card: Card) -> ActionsBlock:
    return ActionsBlock(block_id=Block.CARD_ADD, elements=[
        ButtonElement(action_id=ADD_ACTIONS[kind], value=str(card.id),
                      text=f"Add {KIND_LABEL[kind].lower()}") for kind in Kind])


def _kinds() -> str:
    return "\n".join(f"{KIND_EMOJI[kind]} *{KIND_LABEL[kind]}*: {ASKS[kind]}" for kind in Kind)


def nudge_dm(card: Card, days: int) -> dict:
    """The nudge: the card, the three kinds, buttons that open the form on it, mutes."""
    text = (f":wave: You are on the card “{safe(card.title)}” in <#{card.channel_id}> and "
            f"have added nothing to it in the last {_n(days, 'day', 'days')}. What has it "
            "taught you so far?")
    blocks: list[SlackBlock] = [
        SectionBlock(text=MarkdownTextObject(text=f"{text}\n{_kinds()}", verbatim=True)),
        _add_buttons(card),
        ActionsBlock(block_id=Block.NUDGE, elements=[
            ButtonElement(action_id=Action.NUDGE_MUTE_CARD, value=str(card.id),
                          text="No more nudges for this card"),
            ButtonElement(action_id=Action.NUDGE_MUTE_ALL, value=str(card.id),
                          text="No nudges at all"),
        ]),
        ContextBlock(elements=[MarkdownTextObject(
            text="One nudge per quiet stretch, never on a weekend or a holiday. "
                 "`/debrief nudges` shows your settings.")]),
    ]
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def ask_dm(card: Card, by: str) -> dict:
    """"Ask them first": the card is about to close."""
    text = (f":raised_hand: <@{by}> is about to close the card “{safe(card.title)}” in "
            f"<#{card.channel_id}> and asks for your debrief first.")
    blocks: list[SlackBlock] = [
        SectionBlock(text=MarkdownTextObject(text=f"{text}\n{_kinds()}", verbatim=True)),
        _add_buttons(card),
        ContextBlock(elements=[MarkdownTextObject(
            text="Added to it anonymously already? Then thank you: nothing more is needed.")]),
    ]
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def _card(card: Card) -> str:
    return f"“{safe(card.title)}” (card {card.id})"


def joined(card: Card, added: bool, days: int) -> str:
    if not added:
        return f"You are on {_card(card)} already."
    return (f":wave: You are on {_card(card)} now: it will ask you for your debrief, with "
            f"one nudge by DM if you add nothing to it for {_n(days, 'day', 'days')}.")


def left(card: Card, removed: bool) -> str:
    if not removed:
        return f"You are not on {_card(card)}."
    return f"You left {_card(card)}: no more asks or nudges about it."


def added(card: Card, people: Sequence[str], already: Sequence[str]) -> str:
    parts = [f"Added {_people(people)} to {_card(card)}." if people else
             f"Nobody new on {_card(card)}."]
    if already:
        parts.append(f"{_people(already)} {'was' if len(already) == 1 else 'were'} on it "
                     "already.")
    return " ".join(parts)


def removed(card: Card, users: Sequence[str]) -> str:
    if not users:
        return f"None of them is on {_card(card)}."
    return f"Took {_people(users)} off {_card(card)}."


def card_period(card: Card, days: int) -> str:
    return f":bell: {_card(card)} now nudges after {_n(days, 'quiet day', 'quiet days')}."


def channel_period(days: int, count: int) -> str:
    return (f":bell: Cards in this channel now nudge after {_n(days, 'quiet day', 'quiet days')}"
            f" ({_n(count, 'open card', 'open cards')} now), unless a card sets its own.")


def unmuted_card(card: Card) -> str:
    return f":bell: Nudges about {_card(card)} are on again for you."


def muted_card(card: Card) -> str:
    return (f":no_bell: No more nudges about “{safe(card.title)}” (card {card.id}). "
            f"`/debrief nudges on` turns them all back on.")


MUTED_ALL = (":no_bell: No more nudges at all. `/debrief nudges on` turns them back on "
             "whenever you like.")
UNMUTED = ":bell: Nudges are on again for every open card you are on."


def nudge_status(*, muted_all: bool, cards: Sequence[tuple[Card, bool, datetime | None]],
                 channel_days: int) -> str:
    """`/debrief nudges`: the person's own settings."""
    lines = [":bell: *Nudges*: a card you are on DMs you once when you have added nothing "
             f"to it for a while (here: {_n(channel_days, 'day', 'days')} unless the card "
             "says otherwise), never on a weekend or a holiday."]
    if muted_all:
        lines.append(":no_bell: You have turned them all off.")
    for card, muted, due in cards:
        state = "muted" if muted else (f"next <!date^{int(due.timestamp())}^{{date_short}} "
                                       f"{{time}}|{due:%Y-%m-%d %H:%M} UTC>" if due else
                                       "none planned")
        lines.append(f"• “{safe(card.title)}” (card {card.id}) in <#{card.channel_id}>: "
                     f"{state}")
    lines.append("`/debrief nudges off` · `on` · `CARD off` · `every 3 days` (this channel) · "
                 "`CARD every 2 weeks` (a card you opened)")
    return "\n".join(lines)
