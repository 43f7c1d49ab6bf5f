"""`/debrief TEXT` without a kind: the text is kept as a draft until its author picks
win, opportunity or lesson (or opens the form with it). Nothing anyone typed is lost; a
draft nobody picked is forgotten after KEEP."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.models import Draft, utcnow
from bot.services.entries import EntryError, validate_text

KEEP = timedelta(days=1)


def keep(db: Session, team_id: str, user_id: str, channel_id: str, text: str) -> Draft:
    """Keep what was typed (EntryError if it could never be an entry: empty, too long)."""
    draft = Draft(team_id=team_id, user_id=user_id, channel_id=channel_id,
                  text=validate_text(text), created_at=utcnow())
    db.add(draft)
    db.flush()
    return draft


def peek(db: Session, team_id: str, user_id: str, draft_id: int) -> Draft:
    """The caller's own draft, left in place (for the form)."""
    draft = db.scalar(select(Draft).where(Draft.team_id == team_id, Draft.id == draft_id,
                                          Draft.user_id == user_id))
    if draft is None:
        raise EntryError("That text was logged already (or is more than a day old): "
                         "type it again with `/debrief win|opportunity|lesson TEXT`.")
    return draft


def take(db: Session, team_id: str, user_id: str, draft_id: int) -> Draft:
    """The caller's own draft, removed: it is about to become an entry."""
    draft = peek(db, team_id, user_id, draft_id)
    db.delete(draft)
    return draft


def forget_old(db: Session, now: datetime | None = None) -> int:
    """Drop drafts nobody picked a kind for within KEEP."""
    result = db.execute(delete(Draft).where(Draft.created_at < (now or utcnow()) - KEEP))
    return max(getattr(result, "rowcount", 0) or 0, 0)


def forget_person(db: Session, team_id: str, user_id: str) -> None:
    db.execute(delete(Draft).where(Draft.team_id == team_id, Draft.user_id == user_id))
