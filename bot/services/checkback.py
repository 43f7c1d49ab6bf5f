"""Opportunity → check back → lesson: every opportunity is followed until it becomes a
lesson, or its author lets it go.

Logging an opportunity plans a check-back (the workspace's default, two weeks unless an
admin chose otherwise; or when its card closes; or never). When it falls due its author
gets a DM: what they noted, and **Log what we learned** / **Not yet** / **Drop it**.

Times: `due_at` is UTC, and set only while a DM is to be sent, so the clock's tick is one
lookup on its index however many opportunities are open. A day is asked at ASK_AT on the
author's wall clock (their Slack time zone, learned after the ack; UTC until then), on a
weekday, computed with zoneinfo (bot/services/schedule.py's DST rules), so the ask comes
at the same local hour across a DST change.

Exactly once across clocks: a due row is claimed by one UPDATE that clears `due_at` where
it is still due, in the same transaction as the DM's outbox row; a second clock's UPDATE
finds it no longer due (on PostgreSQL it waits for the first one's row lock, then
re-reads). Away: a person whose rotation says they are away (any rotation of theirs in
the workspace, `away @a until DATE`) is not asked; their check-back moves to the first
weekday after that date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.db.models import (
    CheckBack,
    CheckBackPlan,
    CheckBackStatus,
    Entry,
    Kind,
    RotationMember,
    StoredEntry,
    WorkspaceSettings,
    utcnow,
)
from bot.ids import OutboxAction
from bot.services import outbox, schedule
from bot.services.errors import UserError

DEFAULT_DAYS = 14
NOT_YET_DAYS = 7
ASK_AT = time(10, 0)  # the author's local time
# The choices offered when an opportunity is logged: days, or a plan.
DAY_CHOICES = (7, 14, 30)
CHOICE_CARD, CHOICE_NEVER = "card", "never"
STILL_OPEN = (CheckBackStatus.OPEN, CheckBackStatus.ASKED)
TICK_BATCH = 200


class CheckBackError(UserError):
    """A check-back answer that cannot be taken; fit to show the person."""


def default_days(db: Session, team_id: str) -> int:
    """Days until an opportunity is asked about, as the workspace chose; 0: never."""
    days = db.scalar(select(WorkspaceSettings.check_back_days)
                     .where(WorkspaceSettings.team_id == team_id))
    return DEFAULT_DAYS if days is None else days


def _zone(tz_name: str | None) -> ZoneInfo:
    try:
        return schedule.zone(tz_name) if tz_name else ZoneInfo("UTC")
    except UserError:
        return ZoneInfo("UTC")


def ask_on(day: date, tz_name: str | None) -> datetime:
    """When to ask on a local day: ASK_AT on the author's wall clock, a weekend moved to
    the Monday after; in UTC."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return schedule.local_instant(day, ASK_AT, _zone(tz_name))


def in_days(now: datetime, days: int, tz_name: str | None) -> datetime:
    """`days` local days after `now`, at the asking hour."""
    return ask_on(now.astimezone(_zone(tz_name)).date() + timedelta(days=days), tz_name)


def start(db: Session, entry: StoredEntry, days: int, now: datetime | None = None) -> CheckBack:
    """Plan the check-back of a new opportunity (`days` from `default_days`, read before
    the entry was written) and queue the note that says when, with other choices. In
    the caller's unit of work."""
    now = now or utcnow()
    check = CheckBack(team_id=entry.team_id, user_id=entry.author_id, entry_id=entry.id,
                      plan=CheckBackPlan.AFTER if days else CheckBackPlan.NEVER,
                      status=CheckBackStatus.OPEN, times_asked=0, created_at=now,
                      due_at=in_days(now, days, None) if days else None)
    db.add(check)
    outbox.enqueue(db, team_id=entry.team_id, action=OutboxAction.CHECKBACK_PLANNED,
                   channel_id=entry.channel_id, user_id=entry.author_id, entry_id=entry.id)
    return check


def of_entry(db: Session, team_id: str, entry_id: int) -> CheckBack | None:
    return db.scalar(select(CheckBack).where(CheckBack.team_id == team_id,
                                             CheckBack.entry_id == entry_id))


def learn_zone(db: Session, team_id: str, entry_id: int, tz_name: str | None) -> CheckBack | None:
    """The author's Slack time zone is known: keep it, and move a planned day's ask to
    the asking hour of their wall clock (same local day)."""
    check = of_entry(db, team_id, entry_id)
    if check is None or not tz_name or check.tz_name == tz_name:
        return check
    if check.due_at is not None and check.status == CheckBackStatus.OPEN \
            and check.plan == CheckBackPlan.AFTER:
        day = check.due_at.astimezone(_zone(check.tz_name)).date()
        check.due_at = ask_on(day, tz_name)
    check.tz_name = tz_name
    return check


def _own(db: Session, team_id: str, user_id: str, check_id: int) -> tuple[CheckBack, Entry]:
    check = db.scalar(select(CheckBack).where(CheckBack.team_id == team_id,
                                              CheckBack.id == check_id))
    entry = db.get(Entry, check.entry_id) if check is not None else None
    if check is None or entry is None or check.user_id != user_id:
        # The same answer whether it is gone or someone else's.
        raise CheckBackError("That opportunity is no longer there.")
    return check, entry


def choose(db: Session, team_id: str, user_id: str, check_id: int, choice: str,
           now: datetime | None = None) -> CheckBack:
    """The author picks when to be asked: in N days, when its card closes, or never."""
    now = now or utcnow()
    check, entry = _own(db, team_id, user_id, check_id)
    if check.status not in STILL_OPEN:
        raise CheckBackError("That opportunity is closed already: "
                             + ("it became a lesson." if check.status == CheckBackStatus.LEARNED
                                else "you let it go."))
    if choice == CHOICE_CARD:
        if entry.card_id is None:
            raise CheckBackError("That opportunity is on no card: pick a day instead.")
        check.plan, check.due_at = CheckBackPlan.CARD, None
    elif choice == CHOICE_NEVER:
        check.plan, check.due_at = CheckBackPlan.NEVER, None
    elif choice.isdigit() and int(choice) in DAY_CHOICES:
        check.plan, check.due_at = CheckBackPlan.AFTER, in_days(now, int(choice), check.tz_name)
    else:
        raise CheckBackError("Pick one of the buttons.")
    check.status = CheckBackStatus.OPEN
    return check


def card_closed(db: Session, team_id: str, card_id: int, now: datetime | None = None) -> None:
    """A card closed: its open opportunities that wait for it fall due now."""
    waiting = select(Entry.id).where(Entry.team_id == team_id, Entry.card_id == card_id,
                                     Entry.kind == Kind.OPPORTUNITY)
    db.execute(update(CheckBack).where(
        CheckBack.team_id == team_id, CheckBack.plan == CheckBackPlan.CARD,
        CheckBack.status == CheckBackStatus.OPEN, CheckBack.entry_id.in_(waiting))
        .values(due_at=now or utcnow()))


# --- the clock's tick ---

def due(db: Session, now: datetime, limit: int = TICK_BATCH) -> list[int]:
    """Check-backs whose ask is due, earliest first: one range read of the due index."""
    return list(db.scalars(select(CheckBack.id).where(CheckBack.due_at <= now)
                           .order_by(CheckBack.due_at).limit(limit)))


def next_due(db: Session) -> datetime | None:
    return db.scalar(select(func.min(CheckBack.due_at)))


def claim(db: Session, ids: Sequence[int], now: datetime) -> int:
    """Claim the due check-backs among `ids` and queue a DM for each (or, for people
    away, move the ask past their away date); how many DMs. In the caller's unit of
    work: the clock commits the claims and the DMs together."""
    if not ids:
        return 0
    claimed = list(db.execute(
        update(CheckBack).where(CheckBack.id.in_(list(ids)), CheckBack.due_at <= now)
        .values(due_at=None)
        .returning(CheckBack.id, CheckBack.team_id, CheckBack.user_id, CheckBack.tz_name,
                   CheckBack.entry_id)).all())
    if not claimed:
        return 0
    away = away_until(db, {(row.team_id, row.user_id) for row in claimed}, now)
    asked = []
    for row in claimed:
        until = away.get((row.team_id, row.user_id))
        if until is not None:
            # Paused while away: asked on the first weekday after they are back.
            db.execute(update(CheckBack).where(CheckBack.id == row.id)
                       .values(due_at=ask_on(until + timedelta(days=1), row.tz_name)))
            continue
        asked.append(row.id)
        outbox.enqueue(db, team_id=row.team_id, action=OutboxAction.CHECKBACK_ASK,
                       channel_id=row.user_id, user_id=row.user_id, entry_id=row.entry_id)
    if asked:
        db.execute(update(CheckBack).where(CheckBack.id.in_(asked)).values(
            status=CheckBackStatus.ASKED, asked_at=now,
            times_asked=CheckBack.times_asked + 1))
    return len(asked)


def away_until(db: Session, people: set[tuple[str, str]], now: datetime) -> dict[
        tuple[str, str], date]:
    """Of these (team, user) pairs, who is away today, and until when (the latest date
    any of their rotations gives, inclusive). Today is taken as UTC's date, the earliest
    a rotation's local date can be give or take a day; an away date is whole days."""
    if not people:
        return {}
    teams = {team for team, _ in people}
    users = {user for _, user in people}
    rows = db.execute(
        select(RotationMember.team_id, RotationMember.user_id,
               func.max(RotationMember.away_until))
        .where(RotationMember.team_id.in_(teams), RotationMember.user_id.in_(users),
               RotationMember.away_until >= now.astimezone(UTC).date())
        .group_by(RotationMember.team_id, RotationMember.user_id)).all()
    return {(team, user): until for team, user, until in rows
            if (team, user) in people and until is not None}


# --- the author's answers ---

def for_dm(db: Session, team_id: str, entry_id: int) -> tuple[CheckBack, Entry] | None:
    """What the check-back DM shows, drawn when it is sent; None once it is moot."""
    check = of_entry(db, team_id, entry_id)
    entry = db.get(Entry, entry_id)
    if check is None or entry is None or check.status != CheckBackStatus.ASKED:
        return None
    return check, entry


def dm_sent(db: Session, team_id: str, entry_id: int, channel_id: str | None, ts: str) -> None:
    """The DM is out: keep where, so an answer can replace its buttons."""
    check = of_entry(db, team_id, entry_id)
    if check is not None:
        check.dm_channel_id, check.dm_ts = channel_id, ts


def _answered(db: Session, check: CheckBack) -> None:
    if check.dm_channel_id and check.dm_ts:
        outbox.enqueue(db, team_id=check.team_id, action=OutboxAction.CHECKBACK_ANSWERED,
                       channel_id=check.dm_channel_id, user_id=check.user_id,
                       entry_id=check.entry_id, target_ts=check.dm_ts)


def open_follow_up(db: Session, team_id: str, user_id: str, check_id: int) -> Entry:
    """**Log what we learned**: the opportunity the lesson will follow, if still open."""
    check, entry = _own(db, team_id, user_id, check_id)
    if check.status not in STILL_OPEN:
        raise CheckBackError("That opportunity is closed already.")
    return entry


def learned(db: Session, team_id: str, user_id: str, check_id: int, lesson: StoredEntry) -> None:
    """The lesson (just logged) is what the opportunity became."""
    check, _entry = _own(db, team_id, user_id, check_id)
    check.status, check.lesson_id, check.due_at = CheckBackStatus.LEARNED, lesson.id, None
    check.learned_at = lesson.created_at
    _answered(db, check)


def not_yet(db: Session, team_id: str, user_id: str, check_id: int,
            now: datetime | None = None) -> CheckBack:
    """**Not yet**: ask again in NOT_YET_DAYS."""
    check, _entry = _own(db, team_id, user_id, check_id)
    if check.status not in STILL_OPEN:
        raise CheckBackError("That opportunity is closed already.")
    check.status, check.plan = CheckBackStatus.OPEN, CheckBackPlan.AFTER
    check.due_at = in_days(now or utcnow(), NOT_YET_DAYS, check.tz_name)
    _answered(db, check)
    return check


def drop(db: Session, team_id: str, user_id: str, check_id: int) -> CheckBack:
    """**Drop it**: no more asking; it no longer counts as open."""
    check, _entry = _own(db, team_id, user_id, check_id)
    if check.status == CheckBackStatus.LEARNED:
        raise CheckBackError("That opportunity became a lesson already.")
    check.status, check.due_at = CheckBackStatus.DROPPED, None
    _answered(db, check)
    return check
