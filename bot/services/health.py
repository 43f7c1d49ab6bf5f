"""How a team learns, as pictures and never rankings: the last WEEKS weeks of a channel
(or, for the organisation digest, of the whole workspace), and the safety signals.

What is counted is what the picture's readers may already see: for a channel, the team-
and org-visible entries logged there; for the workspace (the organisation digest, posted
where people of any channel read it), org-visible entries alone, so neither its figures nor
its count of channels that shared move with what a team shared inside a private channel.
Private entries and reflections are never counted. People are counted by name
only: an anonymous entry counts in the entries and in the anonymous share, never in how
many people shared (a count that grew by one when an anonymous author was not among the
named ones would tell them apart). No figure is ever per person.

Safety signals compare the last RECENT weeks with the weeks before. Each figure needs at
least MIN_PEOPLE people (by name) behind it: with fewer in the last RECENT weeks a signal
is not shown at all; with enough there but fewer in the RECENT weeks before, it shows the
current figure alone, with no trend (a trend needs both periods):
- the share of opportunities and lessons against all entries (a team that stops naming
  what went wrong logs wins only);
- the share logged anonymously (rising fast: worth a talk about how safe sharing feels);
- how many people take part.

Weeks are the seven-day spans ending at `now`, newest last, so every week is whole. The
queries group in the database with a CASE over the week boundaries (the same SQL on both
databases), over the covering index on entries (team_id, created_at, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, select, true
from sqlalchemy.orm import Session, aliased

from bot.db.models import CheckBack, Entry, Kind, Visibility, utcnow

WEEKS = 12
RECENT = 4
# What a picture covers: one channel, or the whole workspace (the organisation digest's).
SCOPE_CHANNEL, SCOPE_WORKSPACE = "channel", "workspace"
MIN_PEOPLE = 5
# A share that moves this much (in points of 100) between periods moves "a lot".
SHARE_MOVES = 0.15
SHARE_STEADY = 0.05
# People taking part: a relative change this large (and at least two people) moves a lot.
PEOPLE_MOVES = 0.30
PEOPLE_STEADY = 0.10


@dataclass(frozen=True)
class Week:
    start: datetime
    wins: int = 0
    opportunities: int = 0
    lessons: int = 0
    anonymous: int = 0
    people: int = 0  # distinct people who shared under their name
    became_lessons: int = 0  # lessons logged that week that follow an opportunity

    @property
    def entries(self) -> int:
        return self.wins + self.opportunities + self.lessons


@dataclass(frozen=True)
class Signal:
    """One safety signal. `shown` False: too few people behind it, and nothing else is
    given. `before` None: no trend yet (too few people in the earlier period)."""

    name: str  # "learning", "anonymous", "people"
    shown: bool
    now: float | None = None
    before: float | None = None
    trend: str | None = None  # "up", "down", "steady"
    moved_a_lot: bool = False


@dataclass(frozen=True)
class Health:
    channel_id: str | None  # None: the whole workspace
    since: datetime
    until: datetime
    weeks: list[Week]
    signals: list[Signal]
    people_recent: int
    teams_recent: int | None = None  # the workspace: channels that shared lately


def _bounds(now: datetime) -> list[datetime]:
    return [now - timedelta(days=7 * (WEEKS - n)) for n in range(WEEKS + 1)]


def _week_of(column: Any, bounds: list[datetime]) -> Any:
    return case(*[(column < bound, n) for n, bound in enumerate(bounds[1:-1])],
                else_=WEEKS - 1)


def _readable(channel_id: str | None, entry: Any = Entry) -> Any:
    """What the scope's readers may see: a channel's team- and org-visible entries; across
    the workspace, org-visible ones alone (a team entry may be a private channel's)."""
    if channel_id is None:
        return entry.visibility == Visibility.ORG
    return entry.visibility != Visibility.PRIVATE


def _shared(team_id: str, channel_id: str | None, bounds: list[datetime],
            entry: Any = Entry) -> list[Any]:
    """Entries the scope's readers can see, in the scope and window: never private ones,
    and for the workspace org-visible ones only."""
    where = [entry.team_id == team_id, entry.created_at >= bounds[0],
             entry.created_at < bounds[-1], _readable(channel_id, entry)]
    if channel_id is not None:
        where.append(entry.channel_id == channel_id)
    return where


def picture(db: Session, team_id: str, channel_id: str | None,
            now: datetime | None = None) -> Health:
    """The last WEEKS weeks of a channel (`channel_id`) or of the workspace (None)."""
    now = now or utcnow()
    bounds = _bounds(now)
    where = _shared(team_id, channel_id, bounds)
    week = _week_of(Entry.created_at, bounds).label("week")
    named = case((Entry.anonymous == false(), Entry.author_id))
    rows = db.execute(
        select(week,
               func.sum(case((Entry.kind == Kind.WIN, 1), else_=0)),
               func.sum(case((Entry.kind == Kind.OPPORTUNITY, 1), else_=0)),
               func.sum(case((Entry.kind == Kind.LESSON, 1), else_=0)),
               func.sum(case((Entry.anonymous == true(), 1), else_=0)),
               func.count(named.distinct()))
        .where(*where).group_by(week)).all()
    by_week = {int(row[0]): row for row in rows}
    became = _became_lessons(db, team_id, channel_id, bounds)
    weeks = []
    for n in range(WEEKS):
        row = by_week.get(n)
        wins, opportunities, lessons, anonymous, people = \
            (int(value or 0) for value in row[1:]) if row else (0, 0, 0, 0, 0)
        weeks.append(Week(bounds[n], wins=wins, opportunities=opportunities, lessons=lessons,
                          anonymous=anonymous, people=people, became_lessons=became.get(n, 0)))
    recent, earlier, teams = _people(db, where, bounds, workspace=channel_id is None)
    return Health(channel_id=channel_id, since=bounds[0], until=now, weeks=weeks,
                  signals=signals(weeks, recent, earlier), people_recent=recent,
                  teams_recent=teams)


def _people(db: Session, where: list[Any], bounds: list[datetime], *,
            workspace: bool) -> tuple[int, int, int | None]:
    """People by name in the last RECENT weeks, in the RECENT weeks before, and (for the
    workspace) how many channels shared lately."""
    recent_from, earlier_from = bounds[WEEKS - RECENT], bounds[WEEKS - 2 * RECENT]
    named = Entry.anonymous == false()
    columns = [
        func.count(case((and_(named, Entry.created_at >= recent_from),
                         Entry.author_id)).distinct()),
        func.count(case((and_(named, Entry.created_at >= earlier_from,
                              Entry.created_at < recent_from), Entry.author_id)).distinct()),
    ]
    if workspace:
        columns.append(func.count(case((Entry.created_at >= recent_from,
                                        Entry.channel_id)).distinct()))
    row = db.execute(select(*columns).where(*where, Entry.created_at >= earlier_from)).one()
    return int(row[0] or 0), int(row[1] or 0), (int(row[2] or 0) if workspace else None)


def _became_lessons(db: Session, team_id: str, channel_id: str | None,
                    bounds: list[datetime]) -> dict[int, int]:
    """Lessons logged each week that follow an opportunity (both readable in the scope): read
    from the check-backs that became lessons in the window (their own index)."""
    lesson, opportunity = aliased(Entry), aliased(Entry)
    week = _week_of(CheckBack.learned_at, bounds).label("week")
    rows = db.execute(
        select(week, func.count())
        .select_from(CheckBack)
        .join(lesson, lesson.id == CheckBack.lesson_id)
        .join(opportunity, opportunity.id == CheckBack.entry_id)
        .where(CheckBack.team_id == team_id, CheckBack.learned_at >= bounds[0],
               CheckBack.learned_at < bounds[-1],
               *_shared(team_id, channel_id, bounds, lesson),
               _readable(channel_id, opportunity))
        .group_by(week)).all()
    return {int(n): int(count) for n, count in rows}


def signals(weeks: list[Week], people_recent: int, people_earlier: int) -> list[Signal]:
    """The safety signals from the weeks' figures (see the module's docstring)."""
    recent, earlier = weeks[-RECENT:], weeks[:-RECENT]
    enough_now = people_recent >= MIN_PEOPLE
    # The earlier period's people are those of the RECENT weeks before: enough for a trend.
    enough_before = people_earlier >= MIN_PEOPLE

    def share(part: str) -> tuple[float | None, float | None]:
        def of(span: list[Week]) -> float | None:
            total = sum(w.entries for w in span)
            if not total:
                return None
            if part == "learning":
                return sum(w.opportunities + w.lessons for w in span) / total
            return sum(w.anonymous for w in span) / total
        return of(recent), of(earlier)

    found = []
    for name in ("learning", "anonymous"):
        now, before = share(name)
        if not enough_now or now is None:
            found.append(Signal(name, shown=False))
            continue
        if not enough_before or before is None:
            found.append(Signal(name, shown=True, now=now))
            continue
        delta = now - before
        found.append(Signal(name, shown=True, now=now, before=before,
                            trend=_direction(delta, SHARE_STEADY),
                            moved_a_lot=abs(delta) >= SHARE_MOVES))
    if not enough_now:
        found.append(Signal("people", shown=False))
    elif not enough_before:
        found.append(Signal("people", shown=True, now=people_recent))
    else:
        change = (people_recent - people_earlier) / people_earlier
        found.append(Signal("people", shown=True, now=people_recent, before=people_earlier,
                            trend=_direction(change, PEOPLE_STEADY),
                            moved_a_lot=abs(change) >= PEOPLE_MOVES
                            and abs(people_recent - people_earlier) >= 2))
    return found


def _direction(change: float, steady: float) -> str:
    if abs(change) < steady:
        return "steady"
    return "up" if change > 0 else "down"
