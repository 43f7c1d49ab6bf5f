"""Who a card asks for their debrief: its collaborators.

Named when the card is opened (`/debrief card TITLE @a @b`; the opener only if they name
themselves), added with the card's Join button or by logging a named, team- or
org-visible entry on it; taken off by themselves or by the card's opener.

Someone has contributed when at least one entry of theirs on the card is one its debrief
names them for: not anonymous and not private. That is read from the entries every time,
never stored, so the card's "3 of 5", the opener's list of who has not added yet and the
debrief's contributors depend on named entries alone. An anonymous entry changes none of
them, whoever wrote it: it counts as "someone" on its own line (`Progress.anonymous`),
and never makes its author a collaborator either (someone joining at the moment an
anonymous entry appears would name them). Private entries count for nobody and add
nobody. Any entry of one's own on the card, anonymous or private too, does reset one's
nudge clock: the nudge is a DM only they see.

Only the card's opener ever sees who has not added yet (`roster`, `close`): everybody
else sees counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Exists, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import (
    Card,
    CardCollaborator,
    CardStatus,
    Entry,
    Visibility,
    utcnow,
)
from bot.ids import OutboxAction
from bot.services import cards, nudges, outbox
from bot.services.cards import CardError


@dataclass(frozen=True)
class Progress:
    """What the card shows everyone: counts, never names."""

    collaborators: int = 0
    contributed: int = 0  # collaborators with a named entry in the debrief
    anonymous: int = 0  # anonymous entries on the card: someone contributed, nobody named


@dataclass(frozen=True)
class Roster:
    """Who is on a card, as one person may see it: names only for its opener."""

    progress: Progress
    member: bool  # the viewer is a collaborator
    contributed: list[str] | None  # None unless the viewer opened the card
    waiting: list[str] | None


@dataclass(frozen=True)
class Asked:
    """Who "Ask them first" asked: names for the card's opener, counts for anyone else."""

    card: Card
    now: list[str]
    before: list[str]  # asked by an earlier press
    names_shown: bool


@dataclass(frozen=True)
class NotYet:
    """A close held back: collaborators have not added to the debrief yet."""

    card: Card
    waiting: int
    names: list[str] | None  # only for the card's opener


def _named_entry(card_id: Any, user_id: Any, team_id: Any) -> Exists:
    """An entry that names its author in the card's debrief."""
    return exists().where(Entry.team_id == team_id, Entry.card_id == card_id,
                          Entry.author_id == user_id, Entry.anonymous.is_(False),
                          Entry.visibility != Visibility.PRIVATE)


def _people(db: Session, card: Card) -> list[tuple[str, bool]]:
    """(collaborator, contributed) in the order they were added."""
    named = _named_entry(CardCollaborator.card_id, CardCollaborator.user_id,
                         CardCollaborator.team_id)
    return [(user, bool(done)) for user, done in db.execute(
        select(CardCollaborator.user_id, named)
        .where(CardCollaborator.team_id == card.team_id, CardCollaborator.card_id == card.id)
        .order_by(CardCollaborator.added_at, CardCollaborator.id))]


def progress(db: Session, card: Card, people: list[tuple[str, bool]] | None = None) -> Progress:
    """How many collaborators the card has and how many of them contributed; how many
    anonymous entries it has."""
    people = _people(db, card) if people is None else people
    anonymous = db.scalar(select(func.count()).select_from(Entry).where(
        Entry.team_id == card.team_id, Entry.card_id == card.id, Entry.anonymous.is_(True),
        Entry.visibility != Visibility.PRIVATE)) or 0
    return Progress(collaborators=len(people), contributed=sum(done for _, done in people),
                    anonymous=anonymous)


def waiting(db: Session, card: Card) -> list[str]:
    """Collaborators who have not added to the debrief yet (for the opener's eyes)."""
    return [user for user, done in _people(db, card) if not done]


def roster(db: Session, card: Card, viewer: str) -> Roster:
    """Who is on the card, as `viewer` may see it."""
    people = _people(db, card)
    shown = progress(db, card, people)
    member = any(user == viewer for user, _ in people)
    if viewer != card.opened_by:
        return Roster(shown, member, None, None)
    return Roster(shown, member, [u for u, done in people if done],
                  [u for u, done in people if not done])


def add(db: Session, card: Card, user_ids: Iterable[str], by: str,
        now: datetime | None = None) -> tuple[list[str], list[str]]:
    """Make people collaborators of an open card: (added, already on it)."""
    if card.status != CardStatus.OPEN:
        raise CardError(f"The card “{card.title}” is closed.")
    now = now or utcnow()
    present = set(db.scalars(select(CardCollaborator.user_id).where(
        CardCollaborator.card_id == card.id)))
    added, already, rows = [], [], []
    for user_id in dict.fromkeys(user_ids):
        if user_id in present:
            already.append(user_id)
            continue
        row = CardCollaborator(team_id=card.team_id, card_id=card.id, user_id=user_id,
                               added_by=by, added_at=now, active_at=now, muted=False)
        try:
            with db.begin_nested():  # a concurrent join of the same person wins
                db.add(row)
        except IntegrityError:
            already.append(user_id)
            continue
        rows.append(row)
        added.append(user_id)
    if rows:
        # Their Slack zone, for their nudges: as learned for another card, else asked.
        asked = []
        for row in rows:
            row.tz_name = nudges.known_zone(db, row.team_id, row.user_id)
            if row.tz_name is None:
                asked.append(row.user_id)
        nudges.ask_zone(db, card.team_id, asked)
        nudges.plan(db, rows, {card.id: card})
        cards.changed(db, card.team_id, card.id)
    return added, already


def invite(db: Session, card: Card, user_ids: Iterable[str],
           by: str) -> tuple[list[str], list[str]]:
    """The opener adds people to their card (anyone else presses Join for themselves):
    (added, already on it)."""
    if by != card.opened_by:
        raise CardError(f"Only the card's opener, <@{card.opened_by}>, adds people to it; "
                        "anyone can press its *Join* button.")
    return add(db, card, user_ids, by=by)


def open_card(db: Session, *, team_id: str, channel_id: str, user_id: str, title: str,
              named: Iterable[str] = ()) -> tuple[Card, list[str]]:
    """Open a card (bot/services/cards.py) with the people named as its collaborators
    (the opener too, if they name themselves); (the card, its collaborators)."""
    card = cards.open_card(db, team_id=team_id, channel_id=channel_id, user_id=user_id,
                           title=title)
    added, _ = add(db, card, named, by=user_id)
    return card, added


def card_of(db: Session, team_id: str, card_id: int) -> Card:
    card = cards.get_card(db, team_id, card_id)
    if card is None:
        raise CardError("That card is not there any more.")
    return card


def join(db: Session, team_id: str, card_id: int, user_id: str) -> tuple[Card, bool]:
    """The card's Join button: (the card, whether they were added just now)."""
    card = card_of(db, team_id, card_id)
    added, _ = add(db, card, [user_id], by=user_id)
    return card, bool(added)


def remove(db: Session, team_id: str, card_id: int, user_ids: Iterable[str],
           by: str) -> tuple[Card, list[str]]:
    """Take people off a card: anyone may leave; only the opener takes others off.
    (the card, who was taken off)."""
    card = card_of(db, team_id, card_id)
    wanted = list(dict.fromkeys(user_ids))
    if any(user != by for user in wanted) and by != card.opened_by:
        raise CardError(f"Only the card's opener, <@{card.opened_by}>, takes others off it; "
                        "you can leave it yourself.")
    removed = list(db.scalars(select(CardCollaborator.user_id).where(
        CardCollaborator.card_id == card.id, CardCollaborator.user_id.in_(wanted))))
    if removed:
        db.execute(delete(CardCollaborator).where(CardCollaborator.card_id == card.id,
                                                  CardCollaborator.user_id.in_(removed)))
        cards.changed(db, team_id, card.id)
    return card, removed


def on_entry(db: Session, *, team_id: str, card_id: int, author_id: str, named: bool,
             at: datetime) -> None:
    """An entry is being logged on a card (in the same unit of work, before its own
    write): a named entry others can read (`named`) makes its author a collaborator; any
    entry of theirs restarts their nudge clock. The card's refresh is the entry's own
    (entries.log_entry)."""
    row = db.scalar(select(CardCollaborator).where(
        CardCollaborator.card_id == card_id, CardCollaborator.user_id == author_id))
    if row is None:
        card = cards.get_card(db, team_id, card_id)
        if card is not None and card.status == CardStatus.OPEN and named:
            add(db, card, [author_id], by=author_id, now=at)
        return
    row.active_at = at
    nudges.plan(db, [row])


def close(db: Session, *, team_id: str, channel_id: str, user_id: str, ref: str,
          admin: bool | None = False, anyway: bool = False) -> Card | NotYet:
    """Close a card (cards.close_card: its opener or a workspace admin), unless
    collaborators have not added to its debrief yet and the closer has not said `anyway`:
    then NotYet, naming them for the opener."""
    card = cards.find_card(db, team_id, channel_id, ref)
    cards.may_close(card, user_id, admin)
    if not anyway and card.status == CardStatus.OPEN:
        missing = waiting(db, card)
        if missing:
            return NotYet(card, len(missing), missing if user_id == card.opened_by else None)
    card = cards.close_card(db, team_id=team_id, channel_id=channel_id, user_id=user_id,
                            ref=str(card.id), admin=admin)
    nudges.stop_card(db, card.id)
    return card


def ask(db: Session, *, team_id: str, channel_id: str, user_id: str, card_id: int) -> Asked:
    """"Ask them first": one DM to each collaborator who has not added to the debrief and
    was not asked before; who, for the opener's eyes only."""
    card = cards.find_card(db, team_id, channel_id, str(card_id))
    if card.status != CardStatus.OPEN:
        raise CardError(f"Card {card.id} was already closed; its debrief is in its thread.")
    missing = set(waiting(db, card))
    rows = list(db.scalars(select(CardCollaborator).where(
        CardCollaborator.card_id == card.id, CardCollaborator.user_id.in_(missing))
        .order_by(CardCollaborator.added_at, CardCollaborator.id).with_for_update()))
    asked, before, now = [], [], utcnow()
    for row in rows:
        if row.asked_at is not None:
            before.append(row.user_id)
            continue
        row.asked_at = now
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.CARD_ASK,
                       channel_id=row.user_id, user_id=row.user_id, card_id=card.id,
                       payload={"by": user_id})
        asked.append(row.user_id)
    return Asked(card, asked, before, names_shown=user_id == card.opened_by)


def still_asked(db: Session, team_id: str, card_id: int, user_id: str, *,
                nudge: bool) -> Card | None:
    """The card a nudge (or an ask) to `user_id` is about, when it is still worth
    sending: open, they are still on it, and (a nudge) not muted."""
    card = cards.get_card(db, team_id, card_id)
    if card is None or card.status != CardStatus.OPEN:
        return None
    row = db.scalar(select(CardCollaborator).where(
        CardCollaborator.card_id == card_id, CardCollaborator.user_id == user_id))
    if row is None:
        return None
    if nudge and (row.muted or nudges.is_muted_everywhere(db, team_id, user_id)):
        return None
    return card


def forget(db: Session, team_id: str, user_id: str) -> None:
    """Forget-me: the person is on no card any more, and their nudge settings go."""
    card_ids = list(db.scalars(select(CardCollaborator.card_id).where(
        CardCollaborator.team_id == team_id, CardCollaborator.user_id == user_id)))
    db.execute(delete(CardCollaborator).where(CardCollaborator.team_id == team_id,
                                              CardCollaborator.user_id == user_id))
    for card_id in card_ids:
        cards.changed(db, team_id, card_id)
    nudges.forget(db, team_id, user_id)
