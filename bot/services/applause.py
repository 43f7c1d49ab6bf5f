"""Applause: an emoji reaction on a message that carries someone's work.

A reaction counts once per (message, reacting person, emoji), enforced by the table's
unique key so that Slack's retries and concurrent copies count once across processes.
The author is found from the message itself (Slack names the bot as `item_user` for the
bot's own posts), through the lookups in `CARRIERS`: entries (a shared reflection is
posted as one) and cards. Reactions may arrive out of order
(Slack retries a failed delivery minutes later): the latest of "added" and "removed", by
Slack's `event_ts`, wins.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from sqlalchemy import (
    Delete,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from bot.db import fastpath
from bot.db.models import (
    Applause,
    ApplauseRemoval,
    Card,
    Entry,
    UTCDateTime,
    WorkspaceSettings,
)
from bot.ids import OutboxAction
from bot.services import cards, outbox, seen_events

# A carrier is a SELECT of (author_id, entry_id, anonymous) for the work a message carries,
# at most one row, with the bind parameters :team_id, :channel_id and :ts (the message).
# (Quoted: at run time, SQLAlchemy 2.0's Select takes a single type argument.)
Carrier: TypeAlias = "Select[str, int | None, bool]"

ENTRY_CARRIER: Carrier = select(
    Entry.author_id, Entry.id.label("entry_id"), Entry.anonymous
).where(
    Entry.team_id == bindparam("team_id"),
    Entry.message_channel_id == bindparam("channel_id"),
    Entry.message_ts == bindparam("ts"),
)

# A card's own message: applause for the person who opened the card.
CARD_CARRIER: Carrier = select(
    Card.opened_by.label("author_id"), cast(null(), Integer).label("entry_id"),
    false().label("anonymous"),
).where(
    Card.team_id == bindparam("team_id"),
    Card.channel_id == bindparam("channel_id"),
    Card.message_ts == bindparam("ts"),
)

CARRIERS: tuple[Carrier, ...] = (ENTRY_CARRIER, CARD_CARRIER)


_SKIN_TONE = re.compile(r"::skin-tone-\d$")


def base_emoji(name: str) -> str:
    """`+1::skin-tone-3` and `+1` are the same emoji as far as settings go."""
    return _SKIN_TONE.sub("", name)


def reacted_at(event_ts: str | None) -> str:
    """Slack's event_ts ("1700000000.000100") as a string that sorts in time order."""
    try:
        seconds = Decimal(event_ts or "")
    except InvalidOperation:
        seconds = Decimal("NaN")
    if not seconds.is_finite() or seconds < 0:
        seconds = Decimal(f"{time.time():.6f}")
    return f"{seconds:017.6f}"


@dataclass(frozen=True)
class Reaction:
    """One reaction event, as the applause service needs it."""

    team_id: str
    event_id: str
    reactor_id: str
    channel_id: str
    ts: str
    emoji: str
    event_ts: str | None = None


def record(db: Session, reaction: Reaction, *, added: bool) -> bool:
    """Count a reaction as applause (`added`) or take it back, once per event (Slack's
    retries and concurrent copies of it do nothing); True when a card's refresh was
    queued with it (the message is a card, or an entry in a card's thread).

    Counted: reactions on a message that carries someone's work, except the author's own
    on named work, in emoji the workspace counts, unless taken back since (by Slack's `event_ts`). A
    removal is remembered, on messages that carry work, so a late copy of the reaction is
    ignored. The event's "seen" row, the applause and the card's refresh are one write
    (bot/db/fastpath.py): this runs for every reaction in the workspace."""
    values = {
        "team_id": reaction.team_id, "event_id": reaction.event_id,
        "channel_id": reaction.channel_id, "ts": reaction.ts,
        "reactor_id": reaction.reactor_id, "emoji": reaction.emoji,
        "emoji_pattern": _json_member_pattern(base_emoji(reaction.emoji)),
        "reacted": reacted_at(reaction.event_ts), **cards.refresh_values(reaction.team_id),
    }
    refreshed = fastpath.run(db, ADDED if added else REMOVED, values) is not None
    if refreshed:
        outbox.noted(db, OutboxAction.UPDATE_CARD, reaction.channel_id)
    return refreshed


# The card whose tally shows applause on the message: the card's own message, or an
# entry posted in the card's thread.
_CARD_ID = func.coalesce(
    select(Card.id).where(Card.team_id == bindparam("team_id"),
                          Card.channel_id == bindparam("channel_id"),
                          Card.message_ts == bindparam("ts")).scalar_subquery(),
    select(Entry.card_id).where(Entry.team_id == bindparam("team_id"),
                                Entry.message_channel_id == bindparam("channel_id"),
                                Entry.message_ts == bindparam("ts")).scalar_subquery(),
)
_CARDS = Card.__table__


def _card_steps(changed: str) -> list[fastpath.Step]:
    """After the applause `changed`: bump the card whose tally shows it, and queue its
    refresh unless one is waiting."""
    return [
        fastpath.Step("bump", lambda kit: cards.bump(_CARDS.c.id == _CARD_ID, kit.ran(changed))
                      .returning(_CARDS.c.id, _CARDS.c.channel_id), after=changed),
        fastpath.Step("refresh", lambda kit: cards.refresh_from(
            kit.value("bump", "id"), kit.value("bump", "channel_id"), kit.ran("bump"))
            .returning(literal(1).label("queued")), after="bump"),
    ]


_SEEN = fastpath.Step("seen", seen_events.first_delivery)

ADDED = fastpath.Chain(
    _SEEN,
    fastpath.Step("counted", lambda kit: _count_statement(kit.insert, kit.ran("seen")),
                  after="seen"),
    *_card_steps("counted"),
    result="refresh")

REMOVED = fastpath.Chain(
    _SEEN,
    fastpath.Step("gone", lambda kit: _DELETE.where(kit.ran("seen")).returning(Applause.id),
                  after="seen"),
    fastpath.Step("remembered", lambda kit: _remember_statement(kit.insert, kit.ran("seen")),
                  after="seen"),
    *_card_steps("gone"),
    result="refresh")


_KEY = {"team_id": "team_id", "channel_id": "channel_id", "message_ts": "ts",
        "reactor_id": "reactor_id", "emoji": "emoji"}


def _same_reaction(table: Any) -> list[Any]:
    return [getattr(table, column) == bindparam(param) for column, param in _KEY.items()]


# Only what an earlier reaction added: a re-react that overtook this removal stays.
_DELETE: Delete = delete(Applause).where(
    *_same_reaction(Applause),
    or_(Applause.reacted_ts.is_(None), Applause.reacted_ts < bindparam("reacted")),
)


def _json_member_pattern(name: str) -> str:
    """A LIKE pattern matching `"name"` inside the stored JSON list of emoji names.
    Names are checked against [a-z0-9_+'-] when saved, so JSON writes them as they are."""
    escaped = name.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f'%"{escaped}"%'


def _count_statement(insert: Callable[..., Any], *only_if: Any) -> Any:
    """INSERT … SELECT: the work the message carries, if the reactor is not its author
    (on anonymous work the author's own reaction is kept too: Slack shows every reactor,
    so a public tally one short exactly when the author reacted would name them; the
    author's own figures leave it out, `personal_received` and `personal_given`),
    the workspace counts the emoji and no later removal is known. A copy that lost the
    race to insert changes nothing; a newer reaction refreshes the time."""
    carried = union_all(*CARRIERS).subquery()
    chosen = select(cast(WorkspaceSettings.applause_emoji, Text)).where(
        WorkspaceSettings.team_id == bindparam("team_id")).scalar_subquery()
    counts = or_(chosen.is_(None), chosen == "null", chosen == "[]",
                 chosen.like(bindparam("emoji_pattern"), escape="/"))
    taken_back = exists().where(*_same_reaction(ApplauseRemoval),
                                ApplauseRemoval.removed_ts >= bindparam("reacted"))
    source = select(
        bindparam("team_id"), bindparam("channel_id"), bindparam("ts"),
        bindparam("reactor_id"), bindparam("emoji"), carried.c.author_id,
        carried.c.entry_id, carried.c.anonymous, bindparam("reacted"),
        bindparam("now", type_=UTCDateTime),
    ).where(or_(carried.c.author_id != bindparam("reactor_id"), carried.c.anonymous == true()),
            counts, ~taken_back, *only_if).limit(1)
    columns = ["team_id", "channel_id", "message_ts", "reactor_id", "emoji", "author_id",
               "entry_id", "anonymous", "reacted_ts", "created_at"]
    statement = insert(Applause).from_select(columns, source)
    return statement.on_conflict_do_update(
        index_elements=list(_KEY), set_={"reacted_ts": statement.excluded.reacted_ts},
        where=or_(Applause.reacted_ts.is_(None),
                  Applause.reacted_ts < statement.excluded.reacted_ts),
    ).returning(Applause.id)


def _remember_statement(insert: Callable[..., Any], *only_if: Any) -> Any:
    """Remember a removal, keeping the latest; only on messages that carry work."""
    carried = union_all(*CARRIERS).subquery()
    source: Select[*tuple[Any, ...]] = select(
        bindparam("team_id"), bindparam("channel_id"), bindparam("ts"),
        bindparam("reactor_id"), bindparam("emoji"), bindparam("reacted"),
        bindparam("now", type_=UTCDateTime),
    ).where(exists(select(carried.c.author_id)), *only_if)
    statement = insert(ApplauseRemoval).from_select(
        [*_KEY, "removed_ts", "received_at"], source)
    return statement.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={"removed_ts": statement.excluded.removed_ts,
              "received_at": statement.excluded.received_at},
        where=ApplauseRemoval.removed_ts < statement.excluded.removed_ts,
    )



def received_by(user_id: str) -> list[Any]:
    """WHERE: applause for `user_id`'s work from others (their own reaction on their
    anonymous work is stored, for the public tallies, but is no applause to them)."""
    return [Applause.author_id == user_id, Applause.reactor_id != user_id]


def given_by(user_id: str) -> list[Any]:
    """WHERE: applause `user_id` gave others."""
    return [Applause.reactor_id == user_id, Applause.author_id != user_id]
