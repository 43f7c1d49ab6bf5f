"""The share-a-learning rotation of a channel: its roster and its settings.

Who is up at each meeting lives in `bot.services.turns`; parsing times in
`bot.services.schedule`. Every function here changes nothing when it raises UserError.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Rotation, RotationMember, Turn, utcnow
from bot.services import access, schedule, turns
from bot.services.errors import UserError
from bot.services.schedule import Schedule

# Slack's escaped mention in command text (manifest: should_escape). Slack only writes it
# for a person it resolved in this workspace, and escapes a typed "<", so it cannot be
# forged: the mention itself proves the user exists. Deactivation is checked later, with
# users.info, before each reminder.
MENTION = re.compile(r"<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")


def mentioned(text: str) -> list[str]:
    """User ids mentioned in command text; UserError for a bare @name Slack did not resolve."""
    ids = list(dict.fromkeys(MENTION.findall(text)))
    leftover = MENTION.sub(" ", text).split()
    if leftover or not ids:
        bad = " ".join(leftover).replace("<", "&lt;").replace(">", "&gt;") or "nobody"
        raise UserError(f"I can't tell who `{bad}` is: @-mention people, picking them from "
                        "Slack's suggestions, e.g. `/debrief rotation add @ana @ben`.")
    return ids


def may_change(person: access.Person, channels: Collection[str] | None = None,
               channel_id: str | None = None) -> None:
    """A rotation's roster, schedule, holidays and pause are changed by members of its
    channel who are not guests (PRODUCT.md §7). `channels`: where Slack says the person
    is, when the channel is not the one they are typing in (a form, submitted later)."""
    access.require_full_member(person, turns.GUESTS_REFUSED)
    if channel_id is not None:
        access.require_in_channel(channels, channel_id, "You are no longer in that channel, "
                                                        "so its rotation was not changed.")


def get(db: Session, team_id: str, channel_id: str) -> Rotation | None:
    return db.scalar(select(Rotation).where(Rotation.team_id == team_id,
                                            Rotation.channel_id == channel_id))


def get_or_create(db: Session, team_id: str, channel_id: str, by: str) -> Rotation:
    rotation = get(db, team_id, channel_id)
    if rotation is not None:
        return rotation
    try:
        with db.begin_nested():
            rotation = Rotation(team_id=team_id, channel_id=channel_id, days="", paused=False,
                                lead_minutes=schedule.DEFAULT_LEAD, updated_by=by)
            db.add(rotation)
    except IntegrityError:  # created by a concurrent command: use theirs
        rotation = get(db, team_id, channel_id)
        assert rotation is not None
    return rotation


def require(db: Session, team_id: str, channel_id: str) -> Rotation:
    rotation = get(db, team_id, channel_id)
    if rotation is None:
        raise UserError("This channel has no rotation yet. Start one with "
                        "`/debrief rotation add @ana @ben` or `/debrief rotation join`.")
    return rotation


def members(db: Session, rotation: Rotation) -> list[RotationMember]:
    return list(db.scalars(select(RotationMember).where(
        RotationMember.rotation_id == rotation.id).order_by(RotationMember.joined_at,
                                                            RotationMember.id)))


def add(db: Session, team_id: str, channel_id: str, by: str,
        user_ids: Iterable[str]) -> tuple[list[str], list[str]]:
    """Add people; returns (added, already in). Adding someone marked deactivated takes
    the mark off (Slack accounts can be reactivated)."""
    rotation = get_or_create(db, team_id, channel_id, by)
    present = {m.user_id: m for m in members(db, rotation)}
    added, already = [], []
    now = utcnow()
    for user_id in user_ids:
        if user_id in present:
            if present[user_id].deactivated:
                present[user_id].deactivated = False
                added.append(user_id)
            else:
                already.append(user_id)
            continue
        present[user_id] = RotationMember(team_id=team_id, rotation_id=rotation.id,
                                          user_id=user_id, joined_at=now, deactivated=False)
        db.add(present[user_id])
        added.append(user_id)
    return added, already


def set_roster(db: Session, team_id: str, channel_id: str, by: str,
               user_ids: Iterable[str]) -> Rotation:
    """Exactly these people take turns (the settings modal's list): others leave."""
    wanted = list(user_ids)
    rotation = get_or_create(db, team_id, channel_id, by)
    add(db, team_id, channel_id, by, wanted)
    for found in members(db, rotation):
        if found.user_id not in wanted:
            remove(db, team_id, channel_id, found.user_id)
    return rotation


def remove(db: Session, team_id: str, channel_id: str, user_id: str) -> None:
    rotation = require(db, team_id, channel_id)
    # Session.execute() types every result as Result; a DELETE's is a CursorResult.
    result = cast(CursorResult[Any], db.execute(delete(RotationMember).where(
        RotationMember.rotation_id == rotation.id, RotationMember.user_id == user_id)))
    if not result.rowcount:
        raise UserError(f"<@{user_id}> is not in this channel's rotation.")


def member(db: Session, rotation: Rotation, user_id: str) -> RotationMember:
    found = db.scalar(select(RotationMember).where(RotationMember.rotation_id == rotation.id,
                                                   RotationMember.user_id == user_id))
    if found is None:
        raise UserError(f"<@{user_id}> is not in this channel's rotation.")
    return found


def apply_schedule(db: Session, team_id: str, channel_id: str, by: str, plan: Schedule,
                   now: datetime | None = None) -> Rotation:
    """Set when the team meets; `plan.tz_name` must be known by now."""
    if plan.tz_name is None:
        raise ValueError("the time zone must be resolved first")
    schedule.zone(plan.tz_name)
    rotation = require(db, team_id, channel_id)
    if not members(db, rotation):
        raise UserError("Nobody is in this rotation yet: add people first with "
                        "`/debrief rotation add @ana @ben`, or `/debrief rotation join`.")
    rotation.days, rotation.meeting_time = plan.days, plan.meeting_time
    rotation.tz_name, rotation.lead_minutes = plan.tz_name, plan.lead_minutes
    rotation.updated_by = by
    turns.reschedule(rotation, now or utcnow())
    return rotation


def check_schedulable(db: Session, team_id: str, channel_id: str) -> None:
    """The checks `apply_schedule` makes, for before the time zone is looked up."""
    if not members(db, require(db, team_id, channel_id)):
        raise UserError("Nobody is in this rotation yet: add people first with "
                        "`/debrief rotation add @ana @ben`, or `/debrief rotation join`.")


def set_holidays(db: Session, team_id: str, channel_id: str, code: str | None,
                 now: datetime | None = None) -> Rotation:
    rotation = require(db, team_id, channel_id)
    rotation.holiday_country = schedule.country(code) if code else None
    turns.reschedule(rotation, now or utcnow())
    return rotation


def set_member_holidays(db: Session, team_id: str, channel_id: str, user_id: str,
                        code: str | None) -> RotationMember:
    """Pass someone over at meetings on their country's public holidays (None: never)."""
    rotation = require(db, team_id, channel_id)
    found = member(db, rotation, user_id)
    found.holiday_country = schedule.country(code) if code else None
    return found


def set_away(db: Session, team_id: str, channel_id: str, user_id: str, until: date | None,
             now: datetime | None = None) -> RotationMember:
    """Pass someone over for meetings up to and including `until` (None: back now)."""
    rotation = require(db, team_id, channel_id)
    found = member(db, rotation, user_id)
    if until is not None and until < (now or utcnow()).date() - timedelta(days=1):
        raise UserError(f"{until.isoformat()} is in the past; give a date from today on.")
    found.away_until = until
    return found


def set_paused(db: Session, team_id: str, channel_id: str, paused: bool,
               now: datetime | None = None) -> Rotation:
    rotation = require(db, team_id, channel_id)
    rotation.paused = paused
    turns.reschedule(rotation, now or utcnow())
    return rotation


def parse_date(word: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise UserError(f"`{word}` is not a date. Use YYYY-MM-DD, like `2026-12-24`.") from None


@dataclass(frozen=True)
class Upcoming:
    """A meeting at which someone is expected to share."""

    channel_id: str
    meeting_date: date
    meeting_at: datetime
    user_id: str
    confirmed: bool  # True: the reminder is out and names them; False: expected


def forecast(db: Session, rotation: Rotation, now: datetime, count: int) -> list[Upcoming]:
    """Who is expected at the next `count` meetings, if nobody passes or goes away."""
    result: list[Upcoming] = []
    current = turns.current_turn(db, rotation, now)
    if current is not None and current.user_id and current.status in turns.OPEN \
            and current.meeting_at > now:
        result.append(Upcoming(rotation.channel_id, current.meeting_date, current.meeting_at,
                               current.user_id, True))
    roster = members(db, rotation)
    if not roster or rotation.next_meeting_at is None:
        return result
    last = dict(turns.last_turns(db, rotation.id))
    after = rotation.next_meeting_at - timedelta(seconds=1)
    for _ in range(count * 3):
        if len(result) >= count or rotation.tz_name is None:
            break
        found = schedule.next_meeting(
            rotation.days, rotation.meeting_time or "00:00", rotation.tz_name, after,
            lambda day: schedule.is_holiday(rotation.holiday_country, day))
        if found is None:
            break
        day, at = found
        after = at
        if current is not None and current.meeting_date == day:
            continue
        up = next((m for m in turns.line(roster, last) if turns.available(m, day)), None)
        if up is not None:
            result.append(Upcoming(rotation.channel_id, day, at, up.user_id, False))
            last[up.user_id] = at
    return result[:count]


def upcoming_turns(db: Session, team_id: str, user_id: str, limit: int = 3,
                   now: datetime | None = None) -> list[Upcoming]:
    """The App Home's "next rotation turns": the person's expected turns, soonest first.

    `confirmed` is True for a turn whose reminder is out and names them."""
    now = now or utcnow()
    rotations = db.scalars(select(Rotation).join(
        RotationMember, RotationMember.rotation_id == Rotation.id).where(
        Rotation.team_id == team_id, RotationMember.user_id == user_id,
        Rotation.paused.is_(False))).all()
    mine: list[Upcoming] = []
    for rotation in rotations:
        size = len(members(db, rotation))
        mine += [u for u in forecast(db, rotation, now, size * limit) if u.user_id == user_id]
    return sorted(mine, key=lambda u: u.meeting_at)[:limit]


def history(db: Session, rotation: Rotation, limit: int = 5) -> list[Turn]:
    return list(db.scalars(select(Turn).where(Turn.rotation_id == rotation.id)
                           .order_by(Turn.meeting_at.desc()).limit(limit)))
