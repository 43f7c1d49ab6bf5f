"""Forget me: erase everything one person wrote in a workspace, and the bot's messages of it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Applause, Entry, OutboxMessage, OutboxStatus, Reflection
from bot.ids import OutboxAction
from bot.services import cards, collaborators, outbox


@dataclass(frozen=True)
class Footprint:
    """How much a person has stored in a workspace."""

    entries: int
    reflections: int
    applause_given: int
    applause_received: int
    messages: int  # bot messages in channels that carry their entries

    @property
    def empty(self) -> bool:
        return not (self.entries or self.reflections or self.applause_given
                    or self.applause_received)


def _applause_given(team_id: str, user_id: str):  # type: ignore[no-untyped-def]
    return (Applause.team_id == team_id, Applause.reactor_id == user_id)


def _applause_received(team_id: str, user_id: str, entry_ids: list[int]):  # type: ignore[no-untyped-def]
    received = Applause.author_id == user_id
    if entry_ids:
        received = or_(received, Applause.entry_id.in_(entry_ids))
    return (Applause.team_id == team_id, received)


def _count(db: Session, model: type, *where: object) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def footprint(db: Session, team_id: str, user_id: str) -> Footprint:
    """What `forget` would erase for this person, counted."""
    entries = db.execute(select(Entry.id, Entry.message_ts).where(
        Entry.team_id == team_id, Entry.author_id == user_id)).all()
    entry_ids = [row.id for row in entries]
    return Footprint(
        entries=len(entries),
        reflections=_count(db, Reflection, Reflection.team_id == team_id,
                           Reflection.author_id == user_id),
        applause_given=_count(db, Applause, *_applause_given(team_id, user_id)),
        applause_received=_count(db, Applause, *_applause_received(team_id, user_id, entry_ids)),
        messages=sum(1 for row in entries if row.message_ts),
    )


def forget(db: Session, team_id: str, user_id: str) -> Footprint:
    """Erase the person's entries, reflections and applause (given and received) in this
    workspace, and queue the deletion of every bot message carrying one of their entries.
    Returns what was erased. Commits."""
    erased = footprint(db, team_id, user_id)
    entries = db.scalars(select(Entry).where(Entry.team_id == team_id,
                                             Entry.author_id == user_id)).all()
    entry_ids = [entry.id for entry in entries]
    for entry in entries:
        if entry.message_ts and entry.message_channel_id:
            outbox.enqueue(db, team_id=team_id, action=OutboxAction.DELETE_MESSAGE,
                           channel_id=entry.message_channel_id, target_ts=entry.message_ts)
    db.execute(delete(Applause).where(*_applause_received(team_id, user_id, entry_ids)))
    db.execute(delete(Applause).where(*_applause_given(team_id, user_id)))
    db.execute(delete(Reflection).where(Reflection.team_id == team_id,
                                        Reflection.author_id == user_id))
    collaborators.forget(db, team_id, user_id)  # off every card, nudge settings gone
    if entry_ids:
        db.execute(delete(Entry).where(Entry.team_id == team_id, Entry.id.in_(entry_ids)))
        for card_id in {entry.card_id for entry in entries if entry.card_id is not None}:
            cards.changed(db, team_id, card_id)  # its tallies drop what was erased
        # Finished sends that pointed at their entries; pending ones are left to the
        # sender, which skips a deleted entry and takes down a message posted meanwhile.
        db.execute(delete(OutboxMessage).where(
            OutboxMessage.team_id == team_id, OutboxMessage.entry_id.in_(entry_ids),
            OutboxMessage.status != OutboxStatus.PENDING))
    return erased
