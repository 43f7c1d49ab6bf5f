"""Applause received per person in a channel: the query behind a kudos leaderboard.

Kept small on purpose so it can be swapped for the applause feature's own. Applause on an
anonymous entry is left out: it counts for its author, who alone may see it, and a ranking
others read would give the author away.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Applause, Entry


def applause_leaderboard(db: Session, team_id: str, channel_id: str, since: datetime,
                         limit: int = 10) -> list[tuple[str, int]]:
    """(author, applause received) in `channel_id` since `since`, most applauded first."""
    received = func.count(Applause.id).label("received")
    rows = db.execute(
        select(Applause.author_id, received)
        .outerjoin(Entry, Entry.id == Applause.entry_id)
        .where(Applause.team_id == team_id, Applause.channel_id == channel_id,
               Applause.created_at >= since,
               or_(Entry.id.is_(None), Entry.anonymous.is_(False)))
        .group_by(Applause.author_id)
        .order_by(received.desc(), Applause.author_id)
        .limit(limit)
    ).all()
    return [(author, count) for author, count in rows]
