"""The organisation digest: once a week, the most applauded org-visible learnings.

A workspace has at most one digest: a channel and a weekly wall-clock time in a time zone.
The next occurrence is kept in UTC and recomputed with zoneinfo after each run, so it
follows the local time across DST. Each week is claimed in `digest_runs` (unique on
digest + ISO week) in the same transaction as its outbox row: with two clocks, the second
insert conflicts and that clock moves on, so the digest goes out exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Applause, Digest, DigestRun, Entry, Visibility, utcnow
from bot.ids import OutboxAction
from bot.services import access, nearmiss, outbox
from bot.services.errors import UserError
from bot.services.health import SCOPE_WORKSPACE

TOP = 5
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_CHANNEL = re.compile(r"<#([A-Z0-9_]+)(?:\|[^>]*)?>|([CG][A-Z0-9_]{2,})")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
USAGE = ("`/debrief digest #channel weekly DAY HH:MM [TZ]`, e.g. "
         "`/debrief digest #learning weekly fri 16:00 Europe/Berlin` "
         "(`here` for this channel; `/debrief digest off` stops it)")


class DigestError(UserError):
    """A digest command that cannot be carried out; fit to show the person."""


@dataclass(frozen=True)
class Schedule:
    channel_id: str
    weekday: int
    minute_of_day: int
    timezone: str


def parse_schedule(args: str, here: str) -> Schedule:
    """Read `#channel weekly DAY HH:MM [TZ]`; `here` names the current channel."""
    words = args.split()
    if len(words) == 1 and (guess := nearmiss.closest(words[0], ("off", "stop"))):
        raise DigestError(f"Did you mean `/debrief digest {guess}`? Or use {USAGE}.")
    if len(words) not in (4, 5) or words[1].lower() != "weekly":
        near = len(words) > 1 and nearmiss.closest(words[1], ("weekly",))
        hint = f"`{words[1][:20]}`: did you mean `weekly`? " if near else ""
        raise DigestError(f"{hint}Use {USAGE}.")
    channel = _channel(words[0], here)
    day = words[2].lower().rstrip(",")
    weekday = next((n for n, name in enumerate(WEEKDAYS) if len(day) >= 3
                    and name.startswith(day)), None)
    if weekday is None:
        guess = nearmiss.closest(day, [*WEEKDAYS, *(name[:3] for name in WEEKDAYS)])
        hint = f"did you mean `{guess}`?" if guess else "try `mon` … `sun`."
        raise DigestError(f"`{day[:20]}` is not a day of the week: {hint}")
    clock = _TIME.fullmatch(words[3])
    if clock is None:
        raise DigestError(f"`{words[3][:20]}` is not a time: use 24-hour `HH:MM`, e.g. `16:00`.")
    tz = words[4] if len(words) == 5 else "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise DigestError(
            f"`{tz[:64]}` is not a time zone I know: use a name like `Europe/Berlin`.") from None
    return Schedule(channel, weekday, int(clock.group(1)) * 60 + int(clock.group(2)), tz)


def _channel(word: str, here: str) -> str:
    if word.lower() in ("here", "this"):
        return here
    match = _CHANNEL.fullmatch(word)
    if match is None:
        raise DigestError("Which channel? Pick it from the list as you type `#`, "
                          f"or run the command in that channel with `here`. Use {USAGE}.")
    return match.group(1) or match.group(2)


def next_occurrence(weekday: int, minute_of_day: int, tz_name: str, after: datetime) -> datetime:
    """The first weekly wall-clock time strictly after `after`, in UTC.

    A time that falls in a DST gap moves to the first minute after the gap; a time that
    happens twice (the clocks go back) counts once, at its first occurrence."""
    tz = ZoneInfo(tz_name)
    wall = time(minute_of_day // 60, minute_of_day % 60)
    local_day = after.astimezone(tz).date()
    for offset in range(-1, 9):
        day = local_day + timedelta(days=offset)
        if day.weekday() != weekday:
            continue
        moment = _resolve(datetime.combine(day, wall), tz)
        if moment > after:
            return moment
    raise AssertionError("a weekday always comes round within eight days")


def _resolve(naive: datetime, tz: ZoneInfo) -> datetime:
    """A local wall time as an aware UTC instant (fold=0: the first of a repeated hour)."""
    candidate = naive
    for _ in range(24 * 60):  # a gap is at most hours long
        aware = candidate.replace(tzinfo=tz)
        instant = aware.astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == candidate:
            return instant
        candidate += timedelta(minutes=1)  # in the gap: try the next minute
    raise AssertionError(f"no valid local time near {naive}")


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


ONLY_ADMINS = ("Only workspace admins and owners can schedule, move or stop the "
               "organisation digest. Ask one of them.")


def set_digest(db: Session, team_id: str, user_id: str, schedule: Schedule,
               now: datetime | None = None, *, by: access.Person) -> Digest:
    """Create or replace the workspace's digest (workspace admins only, `by`); the caller
    commits."""
    access.require_admin(by, ONLY_ADMINS, DigestError)
    now = now or utcnow()
    digest = db.scalar(select(Digest).where(Digest.team_id == team_id)) or \
        Digest(team_id=team_id)
    digest.channel_id = schedule.channel_id
    digest.weekday = schedule.weekday
    digest.minute_of_day = schedule.minute_of_day
    digest.timezone = schedule.timezone
    digest.created_by = user_id
    digest.updated_at = now
    digest.next_run_at = next_occurrence(schedule.weekday, schedule.minute_of_day,
                                         schedule.timezone, now)
    db.add(digest)
    return digest


def get_digest(db: Session, team_id: str) -> Digest | None:
    return db.scalar(select(Digest).where(Digest.team_id == team_id))


def owner(db: Session, team_id: str) -> str | None:
    """Who last scheduled the workspace's digest: told when it cannot be posted."""
    # Empty once they asked to be forgotten: then nobody is told.
    return db.scalar(select(Digest.created_by).where(Digest.team_id == team_id)) or None


def stop_digest(db: Session, team_id: str, *, by: access.Person) -> bool:
    """Stop the workspace's digest (workspace admins only, `by`); False when there was
    none."""
    access.require_admin(by, ONLY_ADMINS, DigestError)
    digest = get_digest(db, team_id)
    if digest is None:
        return False
    db.delete(digest)
    return True


def due(db: Session, now: datetime) -> list[tuple[int, datetime]]:
    """The digests whose time has come: (id, when it was due), earliest first."""
    return [(digest_id, scheduled) for digest_id, scheduled in db.execute(
        select(Digest.id, Digest.next_run_at).where(Digest.next_run_at <= now)
        .order_by(Digest.next_run_at))]


def claim(db: Session, digest_id: int, scheduled: datetime, now: datetime) -> bool:
    """Claim this week's run of a due digest and queue its post; False when another clock
    has it (or it was stopped or moved meanwhile). The clock commits each claim on its
    own: one digest failing to claim never holds up another."""
    digest = db.get(Digest, digest_id)
    if digest is None or digest.next_run_at != scheduled:
        return False  # stopped, or another clock has moved it on already
    local_day = scheduled.astimezone(ZoneInfo(digest.timezone)).date()
    run = DigestRun(team_id=digest.team_id, digest_id=digest.id, week=iso_week(local_day),
                    period_start=scheduled - timedelta(days=7), period_end=scheduled,
                    claimed_at=now)
    following = next_occurrence(digest.weekday, digest.minute_of_day, digest.timezone, now)
    try:
        with db.begin_nested():  # the unique key decides: a conflict means another clock
            db.add(run)
    except IntegrityError:
        # This week is done (by another clock, or before the schedule changed): move on.
        db.execute(update(Digest).where(Digest.id == digest_id, Digest.next_run_at == scheduled)
                   .values(next_run_at=following))
        return False
    outbox.enqueue(db, team_id=digest.team_id, action=OutboxAction.POST_DIGEST,
                   channel_id=digest.channel_id, payload={"run_id": run.id})
    # The same picture of how the teams learn as a channel's, across the workspace.
    outbox.enqueue(db, team_id=digest.team_id, action=OutboxAction.UPLOAD_HEALTH,
                   channel_id=digest.channel_id, user_id=digest.created_by,
                   payload={"scope": SCOPE_WORKSPACE})
    digest.next_run_at = following
    return True


@dataclass(frozen=True)
class Highlight:
    entry: Entry
    applause: int


def highlights(db: Session, run_id: int, limit: int = TOP) -> tuple[DigestRun | None,
                                                                    list[Highlight]]:
    """The week's most applauded org-visible entries of the run's workspace.

    Only org-visible entries, never private or team ones; ties go to the newer entry."""
    run = db.get(DigestRun, run_id)
    if run is None:
        return None, []
    count = func.count(Applause.id).label("applause")
    rows = db.execute(
        select(Entry, count)
        .join(Applause, (Applause.entry_id == Entry.id) & (Applause.team_id == Entry.team_id))
        .where(Entry.team_id == run.team_id, Entry.visibility == Visibility.ORG,
               Applause.created_at >= run.period_start, Applause.created_at < run.period_end)
        .group_by(Entry.id)
        .order_by(count.desc(), Entry.created_at.desc(), Entry.id.desc())
        .limit(limit)
    ).all()
    return run, [Highlight(entry, n) for entry, n in rows]
