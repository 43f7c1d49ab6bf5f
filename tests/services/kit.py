"""What a service test needs, without HTTP, Slack or the outbox worker.

A test owns the transaction, as a request or a clock pass does in the app (`unit`), and
does itself the little the outbox worker would do once Slack answers (`posted`,
`card_posted`): record which message carries an entry or a card, so applause can land.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Card, Entry, Kind, OutboxMessage, StoredEntry, Visibility
from bot.services import applause, entries
from bot.services.entries import NewEntry

WS, OTHER_WS = "T0001", "T0002"
CH, CH2, CH3 = "C_TEAM", "C_OTHER", "C_FAR"

_numbers = itertools.count(1)


@contextmanager
def unit(db: Database) -> Iterator[Session]:
    """One unit of work: committed when the block ends (if the services began a
    transaction; the fast path commits its own), rolled back when it raises."""
    with db.session() as session:
        yield session
        if session.in_transaction():
            session.commit()


def log(db: Database, author: str, text: str, *, kind: Kind = Kind.LESSON,
        channel: str = CH, visibility: Visibility = Visibility.TEAM, anonymous: bool = False,
        card_id: int | None = None, team: str = WS, confirm: bool = False) -> StoredEntry:
    """`/debrief KIND TEXT` (or the modal, with `confirm`), as its own unit of work."""
    with unit(db) as session:
        return entries.log_entry(session, NewEntry(
            team_id=team, channel_id=channel, author_id=author, kind=kind, text=text,
            visibility=visibility, anonymous=anonymous, card_id=card_id), confirm=confirm)


def new_ts() -> str:
    """A Slack message timestamp, unique in the test run."""
    return f"1700000000.{next(_numbers):06d}"


def posted(db: Database, entry: StoredEntry) -> str:
    """Slack posted the entry's message (what the outbox worker records): its ts."""
    ts = new_ts()
    with unit(db) as session:
        row = session.get(Entry, entry.id)
        assert row is not None
        row.message_channel_id, row.message_ts = row.channel_id, ts
    return ts


def card_posted(db: Database, card: Card) -> str:
    """Slack posted the card's message: its ts."""
    ts = new_ts()
    with unit(db) as session:
        row = session.get(Card, card.id)
        assert row is not None
        row.message_ts = ts
    card.message_ts = ts
    return ts


_event_seconds = itertools.count(1_700_000_000)


def event_ts() -> str:
    """A Slack event_ts later than every one handed out before."""
    return f"{next(_event_seconds)}.000100"


def react(db: Database, reactor: str, ts: str, emoji: str = "tada", *, added: bool = True,
          channel: str = CH, team: str = WS, event_id: str | None = None,
          at: str | None = None) -> None:
    """A reaction_added (or, not `added`, reaction_removed) event on message `ts`, as its
    own unit of work; `at` is Slack's event_ts (by default, later than any before)."""
    with unit(db) as session:
        applause.record(session, applause.Reaction(
            team_id=team, event_id=event_id or f"Ev{next(_numbers):08d}", reactor_id=reactor,
            channel_id=channel, ts=ts, emoji=emoji, event_ts=at or event_ts()),
            added=added)


def earlier(ts: str, seconds: int = 1) -> str:
    return f"{Decimal(ts) - seconds:.6f}"


def rows(db: Database, model: type, *where: Any) -> list[Any]:
    with db.session() as session:
        return list(session.scalars(select(model).where(*where)))


def count(db: Database, model: type, *where: Any) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def queued(db: Database, action: str | None = None, **where: Any) -> list[OutboxMessage]:
    """The outbox rows queued (every action, or one), oldest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if action is not None:
        query = query.where(OutboxMessage.action == str(action))
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    with db.session() as session:
        return list(session.scalars(query))
