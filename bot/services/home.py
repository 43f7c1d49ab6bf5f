"""The App Home: what a person sees on Debrief's Home tab, gathered from the database.

Publishing goes through the outbox (`PUBLISH_HOME`): the row is queued when the tab is
opened, and the view is built from the database when it is sent.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import Applause, Entry, OutboxMessage, OutboxStatus, Visibility
from bot.ids import OutboxAction
from bot.services import applause as applause_service
from bot.services import opportunities, outbox, reflections, rotation

OWN_ENTRIES = 10
OWN_REFLECTIONS = 3
TEAM_LEARNINGS = 15
OPEN_OPPORTUNITIES = 5


@dataclass(frozen=True)
class EntryLine:
    id: int
    kind: str
    text: str
    channel_id: str
    visibility: str
    created_at: datetime
    # None when the entry is anonymous and the viewer is not its author.
    author_id: str | None
    applause: int
    # Where its message is, once posted: Slack's permalink (0016), or channel and ts.
    message_channel_id: str | None = None
    message_ts: str | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class Turn:
    """An upcoming share-a-learning turn."""

    channel_id: str
    starts_at: datetime


@dataclass(frozen=True)
class ReflectionLine:
    """One of the person's own reflections: only ever shown on their own Home."""

    id: int
    created_at: datetime
    preview: str  # the first answer they gave
    shared: bool


@dataclass(frozen=True)
class Home:
    user_id: str
    own_entries: list[EntryLine]
    received: int
    given: int
    team_learnings: list[EntryLine]
    turns: list[Turn]
    reflections: list[ReflectionLine]
    reflections_total: int
    # Their own opportunities not yet a lesson (bot/services/opportunities.py), how many.
    open_opportunities: list[opportunities.OpenOpportunity] = field(default_factory=list)
    open_opportunities_total: int = 0


def queue_publish(db: Session, team_id: str, user_id: str, page: int = 0) -> bool:
    """Queue the person's Home for publishing at `page` (0: the overview; 1, 2, …: the
    pages of their history, bot/services/journal.py), unless a publish is already
    waiting: that one then shows `page`, the last one asked for."""
    payload = {"page": page} if page else None
    waiting = db.scalar(select(OutboxMessage.id).where(
        OutboxMessage.team_id == team_id, OutboxMessage.action == OutboxAction.PUBLISH_HOME,
        OutboxMessage.user_id == user_id, OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.claimed_until.is_(None),
    ).limit(1))
    if waiting is not None and db.execute(
            update(OutboxMessage).where(OutboxMessage.id == waiting,
                                        OutboxMessage.status == OutboxStatus.PENDING,
                                        OutboxMessage.claimed_until.is_(None))
            .values(payload=payload)).rowcount:  # type: ignore[attr-defined]
        return False
    outbox.enqueue(db, team_id=team_id, action=OutboxAction.PUBLISH_HOME, channel_id=user_id,
                   user_id=user_id, payload=payload)
    return True


def next_turns(db: Session, team_id: str, user_id: str) -> list[Turn]:
    """The person's next share-a-learning turns, soonest first, from every rotation."""
    return [Turn(channel_id=turn.channel_id, starts_at=turn.meeting_at)
            for turn in rotation.upcoming_turns(db, team_id, user_id, limit=3)]


def home_for(db: Session, team_id: str, user_id: str, channels: Collection[str], *,
             org: bool = True) -> Home:
    """Everything the person's Home shows. `channels` are the channels the person is in:
    team-visible learnings come from those, org-visible ones from everywhere (not for a
    guest: `org` False), private ones of others never."""
    applause = (
        select(func.count()).where(Applause.team_id == team_id, Applause.entry_id == Entry.id)
        .correlate(Entry).scalar_subquery()
    )
    own = db.execute(
        select(Entry, applause).where(Entry.team_id == team_id, Entry.author_id == user_id)
        .order_by(Entry.created_at.desc(), Entry.id.desc()).limit(OWN_ENTRIES)
    ).all()
    visible = [Entry.visibility == Visibility.ORG] if org else []
    if channels:
        visible.append(and_(Entry.visibility == Visibility.TEAM,
                            Entry.channel_id.in_(list(channels))))
    # The count shown beside someone else's anonymous entry is not secret (it is on the
    # message for all to see); who gave it and whom it was for stay hidden.
    team = db.execute(
        select(Entry, applause).where(Entry.team_id == team_id, Entry.author_id != user_id,
                                      or_(*visible))
        .order_by(Entry.created_at.desc(), Entry.id.desc()).limit(TEAM_LEARNINGS)
    ).all() if visible else []
    received = db.scalar(select(func.count()).where(
        Applause.team_id == team_id, *applause_service.received_by(user_id))) or 0
    given = db.scalar(select(func.count()).where(
        Applause.team_id == team_id, *applause_service.given_by(user_id))) or 0
    return Home(
        user_id=user_id,
        own_entries=[_line(entry, count, user_id) for entry, count in own],
        received=received, given=given,
        team_learnings=[_line(entry, count, user_id) for entry, count in team],
        turns=next_turns(db, team_id, user_id),
        **_own_reflections(db, team_id, user_id),
        **_open_opportunities(db, team_id, user_id),
    )


def _open_opportunities(db: Session, team_id: str, user_id: str) -> dict:
    lines, total = opportunities.open_for(db, team_id, user_id, limit=OPEN_OPPORTUNITIES)
    return {"open_opportunities": lines, "open_opportunities_total": total}


def _own_reflections(db: Session, team_id: str, user_id: str) -> dict:
    page = reflections.history(db, team_id, user_id)  # the author's own, through its service
    lines = [ReflectionLine(id=r.id, created_at=r.created_at,
                            preview=next((a for a in r.answers if a.strip()), ""),
                            shared=r.shared_entry_id is not None)
             for r in page.reflections[:OWN_REFLECTIONS]]
    return {"reflections": lines, "reflections_total": page.total}


def _line(entry: Entry, applause: int, viewer: str) -> EntryLine:
    author = None if entry.anonymous and entry.author_id != viewer else entry.author_id
    return EntryLine(id=entry.id, kind=entry.kind, text=entry.text,
                     channel_id=entry.channel_id, visibility=entry.visibility,
                     created_at=entry.created_at, author_id=author, applause=applause,
                     message_channel_id=entry.message_channel_id,
                     message_ts=entry.message_ts, permalink=entry.message_permalink)
