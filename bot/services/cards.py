"""Deliverable cards: open, close, tallies and the closing debrief.

A card's message on Slack is rendered from the database whenever it is sent. Every change
bumps `Card.revision` and queues at most one waiting refresh per card, so a burst of entries
costs one `chat.update` (a Tier 3 method), and a refresh that finds nothing new costs none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import (
    Applause,
    Card,
    CardStatus,
    Entry,
    Kind,
    OutboxMessage,
    OutboxStatus,
    Visibility,
    utcnow,
)
from bot.ids import OutboxAction
from bot.services import access, checkback, outbox
from bot.services.errors import UserError

MAX_TITLE = 150
# How long a refresh waits for more changes to the same card before it is sent.
REFRESH_DELAY = timedelta(seconds=2)
_CARD_ID = re.compile(r"#?([0-9]{1,9})")


class CardError(UserError):
    """A card request that cannot be done; the message is fit to show the person."""


@dataclass(frozen=True)
class Tally:
    wins: int = 0
    opportunities: int = 0
    lessons: int = 0
    applause: int = 0


@dataclass(frozen=True)
class DebriefItem:
    """One entry in a card's debrief; `author_id` is None for anonymous entries."""

    entry_id: int
    kind: Kind
    text: str
    author_id: str | None
    applause: int
    created_at: datetime


def validate_title(title: str) -> str:
    """The title with outer spaces trimmed, or CardError if it is empty or too long."""
    title = " ".join(title.split())
    if "\x00" in title:  # PostgreSQL refuses it
        raise CardError("A card title cannot hold a NUL character (\\0).")
    if not title:
        raise CardError("A card needs a title: `/debrief card Launch the new checkout`.")
    if len(title) > MAX_TITLE:
        raise CardError(
            f"That title is {len(title):,} characters; a card title holds at most "
            f"{MAX_TITLE}. Nothing was created: shorten it and try again."
        )
    return title


def open_card(db: Session, *, team_id: str, channel_id: str, user_id: str,
              title: str) -> Card:
    """Create a card in a channel and queue its message."""
    title = validate_title(title)
    clash = db.scalar(select(Card).where(
        Card.team_id == team_id, Card.channel_id == channel_id,
        Card.status == CardStatus.OPEN, func.lower(Card.title) == title.lower()))
    if clash is not None:
        raise CardError(f"This channel already has an open card with that title (card "
                        f"{clash.id}). Close it first, or choose another title.")
    card = Card(team_id=team_id, channel_id=channel_id, title=title, opened_by=user_id,
                status=CardStatus.OPEN, revision=0, shown_revision=0, created_at=utcnow())
    db.add(card)
    db.flush()
    outbox.enqueue(db, team_id=team_id, action=OutboxAction.POST_CARD, channel_id=channel_id,
                   card_id=card.id, user_id=user_id)
    return card


def get_card(db: Session, team_id: str, card_id: int) -> Card | None:
    return db.scalar(select(Card).where(Card.team_id == team_id, Card.id == card_id))


class NotPostedYet(Exception):
    """The card's own post is still queued: what goes in its thread waits for it."""


def reply_thread(db: Session, card: Card) -> str | None:
    """The thread for what belongs to a card: its message's ts, or None (the channel) when
    it could never be posted; NotPostedYet while its own post is still queued."""
    if card.message_ts is None and outbox.card_on_its_way(db, card.team_id, card.id):
        raise NotPostedYet(f"card {card.id} is not posted yet")
    return card.message_ts


def abandon(db: Session, team_id: str, card_id: int) -> None:
    """Close a card whose message Slack refused for good (in the caller's transaction)."""
    db.execute(update(Card).where(Card.team_id == team_id, Card.id == card_id,
                                  Card.status == CardStatus.OPEN)
               .values(status=CardStatus.CLOSED, closed_at=utcnow()))


def open_cards(db: Session, team_id: str, channel_id: str, limit: int = 99) -> list[Card]:
    """The channel's open cards, newest first (a modal's select holds 100 options)."""
    return list(db.scalars(
        select(Card).where(Card.team_id == team_id, Card.channel_id == channel_id,
                           Card.status == CardStatus.OPEN)
        .order_by(Card.id.desc()).limit(limit)))


def find_card(db: Session, team_id: str, channel_id: str, ref: str) -> Card:
    """A card by its ID (`7` or `#7`), or by its title in this channel (open ones first)."""
    ref = " ".join(ref.split())
    if not ref:
        raise CardError("Which card? Give its ID or title: `/debrief close 7`.")
    match = _CARD_ID.fullmatch(ref)
    if match:
        card = get_card(db, team_id, int(match.group(1)))
        # Only this channel's cards: an ID from elsewhere (a private channel, say) is
        # answered like one that does not exist.
        if card is not None and card.channel_id == channel_id:
            return card
    card = db.scalar(
        select(Card).where(Card.team_id == team_id, Card.channel_id == channel_id,
                           func.lower(Card.title) == ref.lower())
        .order_by((Card.status == CardStatus.OPEN).desc(), Card.id.desc()).limit(1))
    if card is None:
        raise CardError("There is no card with that ID or title in this channel. "
                        "`/debrief card TITLE` opens one.")
    return card


def check_open(db: Session, team_id: str, channel_id: str, card_id: int) -> Card:
    """The card an entry is being logged on, if it is open and in that channel."""
    card = get_card(db, team_id, card_id)
    if card is None or card.channel_id != channel_id:
        raise CardError("That card is not in this channel.")
    if card.status != CardStatus.OPEN:
        raise CardError(f"The card “{card.title}” was closed; choose another card, or none.")
    return card


def may_close(card: Card, user_id: str, admin: bool | None) -> None:
    """Only a card's opener or a workspace admin (`admin`: Slack's answer, None when it
    gave none) may close it; CardError for anyone else."""
    access.owner_or_admin(access.Person(user_id, admin=admin), card.opened_by,
                          f"Only <@{card.opened_by}>, who opened card {card.id}, or a "
                          "workspace admin can close it.", CardError)


def close_card(db: Session, *, team_id: str, channel_id: str, user_id: str,
               ref: str, admin: bool | None = False) -> Card:
    """Close a card: its message loses the add buttons and its debrief is posted. Only its
    opener or a workspace admin may (`admin`: Slack's answer, None when it gave none)."""
    card = find_card(db, team_id, channel_id, ref)
    may_close(card, user_id, admin)
    # The row lock makes two concurrent closes queue, so one debrief is posted.
    card = db.scalar(select(Card).where(Card.id == card.id).with_for_update()
                     .execution_options(populate_existing=True)) or card
    if card.status == CardStatus.CLOSED:
        raise CardError(f"Card {card.id} was already closed; its debrief is in its thread.")
    card.status = CardStatus.CLOSED
    card.closed_by = user_id
    card.closed_at = utcnow()
    changed(db, team_id, card.id, delay=timedelta(0))
    checkback.card_closed(db, team_id, card.id)  # "when its card closes" falls due now
    outbox.enqueue(db, team_id=team_id, action=OutboxAction.POST_CARD_DEBRIEF,
                   channel_id=card.channel_id, card_id=card.id, user_id=user_id)
    return card


def changed(db: Session, team_id: str, card_id: int, *,
            delay: timedelta | None = None) -> None:
    """Note a change to what a card shows, and queue a refresh unless one is waiting.

    Runs in the caller's transaction; the refresh renders whatever is stored by then."""
    # Only BUMP's own parameters: any other named after a column would be SET as well.
    db.execute(BUMP, {"team": team_id, "card": card_id})
    db.execute(QUEUE_REFRESH, refresh_values(team_id, card_id, delay))


def debrief_changed(db: Session, team_id: str, card_id: int) -> None:
    """Note a change to what a closed card's debrief says (an entry on it edited or
    deleted): queue the debrief's redrawing, unless one is waiting. It is drawn from the
    database when sent, and finds the debrief's message then (bot/outbox/senders/cards.py)."""
    card = get_card(db, team_id, card_id)
    if card is None or card.status != CardStatus.CLOSED:
        return  # an open card has no debrief yet; closing it draws the newest
    waiting = db.scalar(select(OutboxMessage.id).where(
        OutboxMessage.team_id == team_id, OutboxMessage.card_id == card_id,
        OutboxMessage.action == OutboxAction.UPDATE_CARD_DEBRIEF,
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.claimed_until.is_(None)).limit(1))
    if waiting is None:
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.UPDATE_CARD_DEBRIEF,
                       channel_id=card.channel_id, card_id=card.id,
                       not_before=utcnow() + REFRESH_DELAY)


def debrief_message(db: Session, card: Card) -> tuple[str | None, bool]:
    """The ts of the card's debrief message, and whether its post is still on its way."""
    rows = db.execute(select(OutboxMessage.status, OutboxMessage.result_ts).where(
        OutboxMessage.team_id == card.team_id, OutboxMessage.card_id == card.id,
        OutboxMessage.action == OutboxAction.POST_CARD_DEBRIEF)).all()
    posted = next((ts for status, ts in rows if status == OutboxStatus.SENT and ts), None)
    return posted, any(status == OutboxStatus.PENDING for status, _ in rows)


def refresh_values(team_id: str, card_id: int | None = None,
                   delay: timedelta | None = None) -> dict[str, Any]:
    """The parameters of BUMP and QUEUE_REFRESH."""
    now = utcnow()
    return {"team_id": team_id, "team": team_id, "card": card_id, "now": now,
            "not_before": now + (REFRESH_DELAY if delay is None else delay)}


def refresh_from(card_id: Any, channel_id: Any, *where: Any) -> Any:
    """INSERT … SELECT of a card refresh, from a source with the card's id and channel,
    unless one is waiting for it already (pending, not taken by a sender): whatever it
    sends is rendered from the database then, so one waiting refresh is enough.
    Parameters :team_id, :now, :not_before (when to send it)."""
    now = bindparam("now", type_=OutboxMessage.created_at.type)
    columns = {
        "team_id": bindparam("team_id", type_=OutboxMessage.team_id.type),
        "action": literal(OutboxAction.UPDATE_CARD), "channel_id": channel_id, "card_id": card_id,
        "status": literal(str(OutboxStatus.PENDING)), "attempts": literal(0),
        "next_attempt_at": bindparam("not_before", type_=OutboxMessage.next_attempt_at.type),
        "created_at": now,
    }
    waiting = exists().where(
        OutboxMessage.team_id == columns["team_id"],
        OutboxMessage.action == OutboxAction.UPDATE_CARD, OutboxMessage.card_id == card_id,
        OutboxMessage.status == str(OutboxStatus.PENDING),
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
    # Core tables, not the ORM classes: a plain statement through the session, too.
    return insert(OutboxMessage.__table__).from_select(
        list(columns), select(*columns.values()).where(~waiting, *where))


_CARDS = Card.__table__


def bump(*where: Any) -> Any:
    """UPDATE: a change to what the cards of workspace :team matching `where` show. (An
    UPDATE of cards may not name its parameters after the table's columns.)"""
    return update(_CARDS).where(_CARDS.c.team_id == bindparam("team"), *where) \
        .values(revision=_CARDS.c.revision + 1)


# A change to what card :card shows (in workspace :team), and its refresh.
_THE_CARD = (Card.team_id == bindparam("team"), Card.id == bindparam("card"))
BUMP = bump(_CARDS.c.id == bindparam("card"))
QUEUE_REFRESH = refresh_from(Card.id, Card.channel_id, *_THE_CARD)


def shown(db: Session, team_id: str, card_id: int, revision: int,
          message_ts: str | None = None) -> None:
    """Record that Slack shows `revision` of the card (posted just now as `message_ts`);
    if it changed meanwhile, queue another refresh (a change made while it was sent)."""
    if message_ts is not None:  # a card is posted once: the first ts is its message
        db.execute(update(Card).where(Card.team_id == team_id, Card.id == card_id,
                                      Card.message_ts.is_(None)).values(message_ts=message_ts))
    db.execute(update(Card).where(Card.team_id == team_id, Card.id == card_id,
                                  Card.shown_revision < revision)
               .values(shown_revision=revision))
    current = db.scalar(select(Card.revision).where(Card.id == card_id))
    if current is not None and current > revision:
        db.execute(QUEUE_REFRESH, refresh_values(team_id, card_id))


def _visible_entries(card: Card) -> tuple[ColumnElement[bool], ...]:
    # Private entries never show on a card, whoever looks.
    return (Entry.team_id == card.team_id, Entry.card_id == card.id,
            Entry.visibility != Visibility.PRIVATE)


def _card_message_applause(db: Session, card: Card) -> int:
    if card.message_ts is None:
        return 0
    return db.scalar(select(func.count()).select_from(Applause).where(
        Applause.team_id == card.team_id, Applause.channel_id == card.channel_id,
        Applause.message_ts == card.message_ts)) or 0


def tally(db: Session, card: Card) -> Tally:
    """What the card message shows: entries by kind, and applause on them and on it."""
    kinds = dict(db.execute(select(Entry.kind, func.count()).where(*_visible_entries(card))
                            .group_by(Entry.kind)).all())
    on_entries = db.scalar(
        select(func.count()).select_from(Applause).join(Entry, Entry.id == Applause.entry_id)
        .where(Applause.team_id == card.team_id, *_visible_entries(card))) or 0
    return Tally(wins=kinds.get(Kind.WIN, 0), opportunities=kinds.get(Kind.OPPORTUNITY, 0),
                 lessons=kinds.get(Kind.LESSON, 0),
                 applause=on_entries + _card_message_applause(db, card))


def debrief(db: Session, card: Card) -> list[DebriefItem]:
    """Everything learned on a card: by kind (wins, opportunities, lessons), the most
    applauded first, then oldest first. Anonymous entries carry no author."""
    applause = (select(Applause.entry_id, func.count().label("n"))
                .where(Applause.team_id == card.team_id).group_by(Applause.entry_id)
                .subquery())
    rows = db.execute(
        select(Entry, func.coalesce(applause.c.n, 0))
        .outerjoin(applause, applause.c.entry_id == Entry.id)
        .where(*_visible_entries(card))
    ).all()
    order = {kind: n for n, kind in enumerate(Kind)}
    items = [DebriefItem(entry_id=entry.id, kind=Kind(entry.kind), text=entry.text,
                         author_id=None if entry.anonymous else entry.author_id,
                         applause=int(count), created_at=entry.created_at)
             for entry, count in rows]
    return sorted(items, key=lambda i: (order[i.kind], -i.applause, i.created_at, i.entry_id))


def card_applause(db: Session, card: Card) -> int:
    """Applause on the card message itself."""
    return _card_message_applause(db, card)
