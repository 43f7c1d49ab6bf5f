"""Sharing the health picture: now, on request, or once a week in a channel that opted in.

A channel's weekly post is a wall-clock time in a time zone, its next occurrence kept in
UTC (computed with bot/services/digest.py's DST rules). Each week is claimed in
`health_runs` (unique post + ISO week) in the same transaction as its outbox row, so with
two clocks the second insert conflicts and the picture goes out once.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import HealthPost, HealthRun, utcnow
from bot.ids import OutboxAction
from bot.services import outbox
from bot.services.digest import WEEKDAYS, iso_week, next_occurrence
from bot.services.errors import UserError
from bot.services.health import SCOPE_CHANNEL

DEFAULT_WEEKDAY, DEFAULT_MINUTE = 0, 9 * 60  # Monday 09:00
USAGE = ("`/debrief health` shares the picture here now; `/debrief health weekly [DAY HH:MM "
         "[TZ]]` posts it here every week (default `mon 09:00 UTC`); `/debrief health off` "
         "stops that")


def share_now(db: Session, team_id: str, channel_id: str, user_id: str) -> None:
    """Queue the channel's picture, shared in the channel."""
    outbox.enqueue(db, team_id=team_id, action=OutboxAction.UPLOAD_HEALTH,
                   channel_id=channel_id, user_id=user_id,
                   payload={"scope": SCOPE_CHANNEL})


def parse_weekly(args: str) -> tuple[int, int, str]:
    """`[DAY HH:MM [TZ]]` -> (weekday, minute of day, zone); UserError otherwise."""
    words = args.split()
    if not words:
        return DEFAULT_WEEKDAY, DEFAULT_MINUTE, "UTC"
    if len(words) not in (2, 3):
        raise UserError(f"Use {USAGE}.")
    day = words[0].lower().rstrip(",")
    weekday = next((n for n, name in enumerate(WEEKDAYS) if len(day) >= 3
                    and name.startswith(day)), None)
    if weekday is None:
        raise UserError(f"`{day[:20]}` is not a day of the week: try `mon` … `sun`.")
    hours, _, minutes = words[1].partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
            and len(minutes) == 2):
        raise UserError(f"`{words[1][:20]}` is not a time: use 24-hour `HH:MM`, e.g. `09:00`.")
    tz = words[2] if len(words) == 3 else "UTC"
    try:
        ZoneInfo(tz)
    except (ValueError, KeyError, OSError):
        raise UserError(f"`{tz[:64]}` is not a time zone I know: use a name like "
                        "`Europe/Berlin`.") from None
    return weekday, int(hours) * 60 + int(minutes), tz


def weekly(db: Session, team_id: str, channel_id: str, user_id: str, args: str,
           now: datetime | None = None) -> HealthPost:
    """Post the channel's picture every week (create or change the time)."""
    weekday, minute, tz = parse_weekly(args)
    now = now or utcnow()
    post = get(db, team_id, channel_id) or HealthPost(team_id=team_id, channel_id=channel_id)
    post.weekday, post.minute_of_day, post.timezone = weekday, minute, tz
    post.created_by, post.updated_at = user_id, now
    post.next_run_at = next_occurrence(weekday, minute, tz, now)
    db.add(post)
    return post


def get(db: Session, team_id: str, channel_id: str) -> HealthPost | None:
    return db.scalar(select(HealthPost).where(HealthPost.team_id == team_id,
                                              HealthPost.channel_id == channel_id))


def stop(db: Session, team_id: str, channel_id: str) -> bool:
    post = get(db, team_id, channel_id)
    if post is None:
        return False
    db.delete(post)
    return True


def due(db: Session, now: datetime) -> list[tuple[int, datetime]]:
    """The weekly posts whose time has come: (id, when it was due), earliest first."""
    return [(post_id, at) for post_id, at in db.execute(
        select(HealthPost.id, HealthPost.next_run_at).where(HealthPost.next_run_at <= now)
        .order_by(HealthPost.next_run_at).limit(200))]


def claim(db: Session, post_id: int, scheduled: datetime, now: datetime) -> bool:
    """Claim this week's post and queue it; False when another clock has it (or it was
    stopped or moved meanwhile). The clock commits each claim on its own."""
    post = db.get(HealthPost, post_id)
    if post is None or post.next_run_at != scheduled:
        return False
    week = iso_week(scheduled.astimezone(ZoneInfo(post.timezone)).date())
    following = next_occurrence(post.weekday, post.minute_of_day, post.timezone, now)
    try:
        with db.begin_nested():  # the unique key decides: a conflict means another clock
            db.add(HealthRun(team_id=post.team_id, post_id=post.id, week=week, claimed_at=now))
    except IntegrityError:
        db.execute(update(HealthPost).where(HealthPost.id == post_id,
                                            HealthPost.next_run_at == scheduled)
                   .values(next_run_at=following))
        return False
    outbox.enqueue(db, team_id=post.team_id, action=OutboxAction.UPLOAD_HEALTH,
                   channel_id=post.channel_id, user_id=post.created_by,
                   payload={"scope": SCOPE_CHANNEL, "weekly": True})
    post.next_run_at = following
    return True

