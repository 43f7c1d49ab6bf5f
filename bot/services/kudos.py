"""Kudos: the applause a person received and gave in a channel, and how the team takes
part. A per-person ranking only where the channel has turned it on; applause on
anonymous work is counted for its author alone and never appears in team figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.db.models import Applause, ChannelSettings, Entry, Visibility, utcnow
from bot.services import applause, nearmiss
from bot.services.errors import UserError

PERIODS: dict[str, timedelta | None] = {
    "week": timedelta(days=7), "month": timedelta(days=30), "all": None,
}
RANKING_SIZE = 10


@dataclass(frozen=True)
class Kudos:
    period: str
    received: int
    received_by_emoji: list[tuple[str, int]]
    given: int
    # Team view: people who shared under their name, anonymous entries, people applauded.
    sharers: int
    anonymous_entries: int
    applauded_people: int
    # (author_id, applause) best first; None when the channel has no leaderboard.
    ranking: list[tuple[str, int]] | None


def parse_period(word: str) -> str:
    """`week` (the default), `month` or `all`; anything else is a UserError."""
    period = (word or "week").strip().lower()
    if period not in PERIODS:
        guess = nearmiss.closest(period, PERIODS)
        hint = f"Did you mean `/debrief kudos {guess}`?" if guess else \
            "Try `/debrief kudos month`."
        raise UserError(
            f"I can show kudos for `week`, `month` or `all`, not `{period[:40]}`. {hint}"
        )
    return period


def since(period: str, now: datetime | None = None) -> datetime | None:
    span = PERIODS[period]
    return None if span is None else (now or utcnow()) - span


def leaderboard_on(db: Session, team_id: str, channel_id: str) -> bool:
    return bool(db.scalar(select(ChannelSettings.leaderboard).where(
        ChannelSettings.team_id == team_id, ChannelSettings.channel_id == channel_id)))


def kudos(db: Session, team_id: str, channel_id: str, user_id: str, period: str,
          now: datetime | None = None) -> Kudos:
    """The caller's kudos in one channel over the period."""
    start = since(period, now)

    def applause_in_channel(*extra: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        where = [Applause.team_id == team_id, Applause.channel_id == channel_id, *extra]
        return where + ([Applause.created_at >= start] if start else [])

    mine = applause_in_channel(*applause.received_by(user_id))
    received = db.scalar(select(func.count()).where(*mine)) or 0
    by_emoji = db.execute(
        select(Applause.emoji, func.count()).where(*mine).group_by(Applause.emoji)
        .order_by(func.count().desc(), Applause.emoji).limit(10)
    ).all()
    given = db.scalar(select(func.count()).where(
        *applause_in_channel(*applause.given_by(user_id)))) or 0

    shared = [Entry.team_id == team_id, Entry.channel_id == channel_id,
              Entry.visibility != Visibility.PRIVATE]
    if start:
        shared.append(Entry.created_at >= start)
    sharers = db.scalar(select(func.count(Entry.author_id.distinct())).where(
        *shared, Entry.anonymous.is_(False))) or 0
    anonymous_entries = db.scalar(select(func.count()).where(
        *shared, Entry.anonymous.is_(True))) or 0
    named = applause_in_channel(Applause.anonymous.is_(False))
    applauded_people = db.scalar(
        select(func.count(Applause.author_id.distinct())).where(*named)) or 0

    ranking = None
    if leaderboard_on(db, team_id, channel_id):
        ranking = [(author, count) for author, count in db.execute(
            select(Applause.author_id, func.count()).where(*named)
            .group_by(Applause.author_id).order_by(func.count().desc(), Applause.author_id)
            .limit(RANKING_SIZE)
        ).all()]
    return Kudos(period=period, received=received,
                 received_by_emoji=[(emoji, count) for emoji, count in by_emoji], given=given,
                 sharers=sharers, anonymous_entries=anonymous_entries,
                 applauded_people=applauded_people, ranking=ranking)
