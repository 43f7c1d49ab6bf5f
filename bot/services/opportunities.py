"""Opportunities as others and their authors see them: the thread a follow-up lesson goes
in, a card's opportunities and the lessons they became, a person's open opportunities.
(Planning and asking: bot/services/checkback.py.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import (
    Card,
    CheckBack,
    CheckBackPlan,
    CheckBackStatus,
    Entry,
    Kind,
    Visibility,
)
from bot.services.checkback import STILL_OPEN


def followed(db: Session, lesson: Entry) -> Entry | None:
    """The opportunity a lesson follows, if any."""
    opportunity_id = db.scalar(select(CheckBack.entry_id).where(
        CheckBack.team_id == lesson.team_id, CheckBack.lesson_id == lesson.id))
    return db.get(Entry, opportunity_id) if opportunity_id is not None else None


def thread_for(db: Session, lesson: Entry) -> str | None:
    """The thread a follow-up lesson is posted in: its opportunity's (the card's, when the
    opportunity is a reply on a card). None when it has none, or when threading would
    tie an anonymous entry to a named one (anonymous stays anonymous)."""
    opportunity = followed(db, lesson)
    if opportunity is None or opportunity.message_ts is None \
            or opportunity.message_channel_id != lesson.channel_id \
            or opportunity.anonymous or lesson.anonymous:
        return None
    if opportunity.card_id is not None:
        card_ts = db.scalar(select(Card.message_ts).where(Card.id == opportunity.card_id))
        if card_ts:
            return card_ts
    return opportunity.message_ts


@dataclass(frozen=True)
class LoopLine:
    """An opportunity on a card, and what came of it, as others may see it."""

    text: str
    author_id: str | None  # None: anonymous
    status: CheckBackStatus
    # The lesson's text when it may be shown beside the opportunity; None otherwise.
    lesson_text: str | None


def card_loop(db: Session, card: Card) -> list[LoopLine]:
    """A card's (non-private) opportunities and the lessons they became, oldest first.
    A lesson is shown beside its opportunity only when both carry a name and the lesson
    is not private; otherwise the opportunity just says it was followed up."""
    rows = db.execute(
        select(Entry, CheckBack).outerjoin(CheckBack, CheckBack.entry_id == Entry.id)
        .where(Entry.team_id == card.team_id, Entry.card_id == card.id,
               Entry.kind == Kind.OPPORTUNITY, Entry.visibility != Visibility.PRIVATE)
        .order_by(Entry.created_at, Entry.id)).all()
    lines = []
    for entry, check in rows:
        status = check.status if check is not None else CheckBackStatus.OPEN
        lesson = db.get(Entry, check.lesson_id) if check is not None and check.lesson_id \
            else None
        if status == CheckBackStatus.LEARNED and lesson is None:
            status = CheckBackStatus.OPEN  # its lesson was deleted: open again, in effect
        shown = lesson.text if lesson is not None and not lesson.anonymous \
            and not entry.anonymous and lesson.visibility != Visibility.PRIVATE else None
        lines.append(LoopLine(text=entry.text,
                              author_id=None if entry.anonymous else entry.author_id,
                              status=status, lesson_text=shown))
    return lines


@dataclass(frozen=True)
class OpenOpportunity:
    check_id: int
    entry_id: int
    text: str
    channel_id: str
    created_at: datetime
    due_at: datetime | None
    plan: CheckBackPlan


def open_for(db: Session, team_id: str, user_id: str, limit: int = 10) -> tuple[
        list[OpenOpportunity], int]:
    """The person's own open opportunities (newest first, up to `limit`) and how many."""
    where = (CheckBack.team_id == team_id, CheckBack.user_id == user_id,
             CheckBack.status.in_([str(s) for s in STILL_OPEN]))
    total = db.scalar(select(func.count()).select_from(CheckBack).where(*where)) or 0
    rows = db.execute(select(CheckBack, Entry).join(Entry, Entry.id == CheckBack.entry_id)
                      .where(*where).order_by(Entry.created_at.desc(), Entry.id.desc())
                      .limit(limit)).all()
    return [OpenOpportunity(check_id=check.id, entry_id=entry.id, text=entry.text,
                            channel_id=entry.channel_id, created_at=entry.created_at,
                            due_at=check.due_at, plan=check.plan)
            for check, entry in rows], total
