"""Turns: who is up at each meeting, claimed once, passed on without penalty.

Fairness: the member whose last turn is longest ago goes first (never had one: first of
all, then by joining order). A member's last turn is read from the turns they kept, so a
pass or a skipped meeting costs nothing and they stay first in line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Entry, Kind, Rotation, RotationMember, Turn, TurnStatus, utcnow
from bot.ids import OutboxAction
from bot.services import access, outbox, schedule
from bot.services.errors import UserError

log = logging.getLogger(__name__)

# Turns that count as having had one's turn.
KEPT = (TurnStatus.REMINDED, TurnStatus.CONFIRMED, TurnStatus.SHARED)
OPEN = (TurnStatus.REMINDED, TurnStatus.CONFIRMED)
# How many of their own entries the person who is up gets as ideas.
IDEAS = 3
_NEVER = datetime.min.replace(tzinfo=UTC)
GUESTS_REFUSED = ("Guests cannot change a channel's rotation: ask a member of the channel "
                  "who is not a guest.")


def reschedule(rotation: Rotation, after: datetime) -> None:
    """Set the rotation's next meeting (strictly after `after`) and its reminder time."""
    found = None
    if not rotation.paused and rotation.days and rotation.meeting_time and rotation.tz_name:
        country = rotation.holiday_country
        found = schedule.next_meeting(rotation.days, rotation.meeting_time, rotation.tz_name,
                                      after, lambda day: schedule.is_holiday(country, day))
    if found is None:
        rotation.next_meeting_date = rotation.next_meeting_at = rotation.next_reminder_at = None
        return
    rotation.next_meeting_date, rotation.next_meeting_at = found
    rotation.next_reminder_at = found[1] - timedelta(minutes=rotation.lead_minutes)


def last_turns(db: Session, rotation_id: int) -> dict[str, datetime]:
    rows = db.execute(
        select(Turn.user_id, func.max(Turn.meeting_at))
        .where(Turn.rotation_id == rotation_id, Turn.user_id.is_not(None),
               Turn.status.in_([str(s) for s in KEPT]))
        .group_by(Turn.user_id)
    ).all()
    return {user: when.replace(tzinfo=UTC) if when.tzinfo is None else when
            for user, when in rows if user is not None}  # None is filtered out above


def available(member: RotationMember, day: date) -> bool:
    """Not deactivated, not away, not on a public holiday of their own country."""
    return not member.deactivated and (member.away_until is None or member.away_until < day) \
        and not schedule.is_holiday(member.holiday_country, day)


def line(members: Sequence[RotationMember], last: dict[str, datetime]) -> list[RotationMember]:
    """Members in the order they are up: longest since their last turn first."""
    return sorted(members, key=lambda m: (m.user_id in last, last.get(m.user_id, _NEVER),
                                          m.joined_at, m.id))


def choose(db: Session, rotation: Rotation, day: date, exclude: Sequence[str] = ()) -> str | None:
    """Who is up at the meeting on `day`: the first available member in line."""
    members = db.scalars(select(RotationMember).where(
        RotationMember.rotation_id == rotation.id)).all()
    for member in line(members, last_turns(db, rotation.id)):
        if member.user_id not in exclude and available(member, day):
            return member.user_id
    return None


def due(db: Session, now: datetime, limit: int = 200) -> list[int]:
    """The rotations whose reminder is due, earliest first."""
    return list(db.scalars(select(Rotation.id).where(Rotation.next_reminder_at <= now)
                           .order_by(Rotation.next_reminder_at).limit(limit)))


def next_due(db: Session) -> datetime | None:
    """When the earliest reminder falls due (one index lookup)."""
    return db.scalar(select(Rotation.next_reminder_at)
                     .where(Rotation.next_reminder_at.is_not(None))
                     .order_by(Rotation.next_reminder_at).limit(1))


def remind(db: Session, rotation_id: int, now: datetime) -> int:
    """Claim the rotation's due meeting and queue its reminder; move on to the next one
    (the clock commits each rotation's claim on its own).

    The claim is the unique (rotation, local date) row: of two clocks, one inserts it and
    the other gets an IntegrityError. On PostgreSQL the row lock lets the other skip."""
    rotation = db.scalar(
        select(Rotation).where(Rotation.id == rotation_id, Rotation.next_reminder_at <= now)
        .with_for_update(skip_locked=True))
    if rotation is None:
        return 0
    meeting_at, day = rotation.next_meeting_at, rotation.next_meeting_date
    if meeting_at is None or day is None or rotation.paused:
        reschedule(rotation, now)
        return 0
    claimed = 0
    taken = db.scalar(select(exists().where(Turn.rotation_id == rotation.id,
                                            Turn.meeting_date == day)))
    if now >= meeting_at:
        log.info("rotation %s: meeting of %s began while we were away; no reminder",
                 rotation.id, day)
    elif not taken:
        user_id = choose(db, rotation, day)
        turn = Turn(team_id=rotation.team_id, rotation_id=rotation.id,
                    channel_id=rotation.channel_id, meeting_date=day, meeting_at=meeting_at,
                    user_id=user_id, passed_by=[],
                    status=TurnStatus.REMINDED if user_id else TurnStatus.MISSED)
        try:
            with db.begin_nested():  # the claim: the unique key refuses a second clock
                db.add(turn)
        except IntegrityError:
            return 0  # another clock claimed this meeting first: it sends it
        has_members = db.scalar(select(exists().where(
            RotationMember.rotation_id == rotation.id)))
        if has_members:  # an empty roster stays quiet; "everyone is away" is worth saying
            outbox.enqueue(db, team_id=rotation.team_id, action=OutboxAction.ROTATION_REMINDER,
                           channel_id=rotation.channel_id, payload={"turn_id": turn.id})
        claimed = 1
    # After downtime, straight to the first meeting that has not begun.
    reschedule(rotation, max(meeting_at, now))
    return claimed


def to_check(turn: Turn) -> str | None:
    """Whom Slack must confirm is still active before the reminder names them."""
    return turn.user_id if turn.status == TurnStatus.REMINDED else None


def pass_over_gone(db: Session, turn_id: int, user_id: str) -> str | None:
    """Slack says `user_id` is deactivated (or gone): mark them so in the rotation and, if
    the turn still names them, name the next available person (nobody: it is missed).
    Returns whom to check next, as `to_check`."""
    turn = db.get(Turn, turn_id)
    if turn is None:
        return None
    found = db.scalar(select(RotationMember).where(
        RotationMember.rotation_id == turn.rotation_id, RotationMember.user_id == user_id))
    if found is not None:
        found.deactivated = True
    db.flush()
    if turn.user_id == user_id and turn.status == TurnStatus.REMINDED:
        rota = db.get(Rotation, turn.rotation_id)
        turn.user_id = choose(db, rota, turn.meeting_date, exclude=turn.passed_by) \
            if rota else None
        if turn.user_id is None:
            turn.status = TurnStatus.MISSED
    return to_check(turn)


def reminder_posted(db: Session, turn_id: int | None, ts: str) -> None:
    """Keep the reminder's ts (it is never posted twice), and queue the DM with ideas
    to whoever it names."""
    turn = db.get(Turn, turn_id)
    if turn is None:
        return
    turn.message_ts = ts
    if turn.user_id and turn.status in OPEN:
        outbox.enqueue(db, team_id=turn.team_id, action=OutboxAction.ROTATION_DM,
                       channel_id=turn.user_id, user_id=turn.user_id,
                       payload={"turn_id": turn.id})


def still_up(turn: Turn | None, user_id: str | None, now: datetime) -> bool:
    """Whether `user_id` is still the one up for this turn, before its meeting: a DM
    queued for them is not sent once they passed, the meeting was skipped or it is over."""
    return turn is not None and turn.user_id == user_id and turn.status in OPEN \
        and now < turn.meeting_at


def ideas(db: Session, turn: Turn) -> list[Entry]:
    """What the person who is up might share: their own latest entries. Only theirs: the
    DM is private to them, so their private and anonymous entries may be ideas too."""
    return list(db.scalars(select(Entry).where(
        Entry.team_id == turn.team_id, Entry.author_id == turn.user_id,
        Entry.kind.in_([Kind.LESSON.value, Kind.OPPORTUNITY.value, Kind.WIN.value]))
        .order_by(Entry.created_at.desc(), Entry.id.desc()).limit(IDEAS)))


def open_turn(db: Session, team_id: str, turn_id: int) -> tuple[Turn, Rotation]:
    turn = db.scalar(select(Turn).where(Turn.team_id == team_id, Turn.id == turn_id)
                     .with_for_update())
    rotation = db.get(Rotation, turn.rotation_id) if turn else None
    if turn is None or rotation is None:
        raise UserError("That rotation no longer exists.")
    return turn, rotation


def _still_open(turn: Turn, now: datetime) -> None:
    if turn.status not in OPEN:
        raise UserError(f"This meeting's turn is already {turn.status}.")
    if now >= turn.meeting_at + timedelta(hours=12):
        raise UserError("That meeting is over.")


def pass_turn(db: Session, team_id: str, turn_id: int, by: str,
              now: datetime | None = None, *, admin: bool | None = False) -> Turn:
    """Move the turn to the next available person now; the one who passed keeps their
    place in line. With nobody left the turn ends as passed. Only the person whose turn
    it is may pass it, or a workspace admin for them (`admin`: Slack's answer)."""
    now = now or utcnow()
    turn, rotation = open_turn(db, team_id, turn_id)
    _still_open(turn, now)
    access.owner_or_admin(access.Person(by, admin=admin), turn.user_id,
                          f"It is <@{turn.user_id}>'s turn: only they, or a workspace admin, "
                          "can pass it on.")
    passed = [*turn.passed_by, *([turn.user_id] if turn.user_id else [])]
    turn.passed_by = passed
    turn.user_id = choose(db, rotation, turn.meeting_date, exclude=passed)
    turn.status = TurnStatus.REMINDED if turn.user_id else TurnStatus.PASSED
    _update_reminder(db, turn)
    if turn.user_id and turn.message_ts:
        # Before the reminder is out, its own delivery sends the DM to whoever is up then.
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.ROTATION_DM,
                       channel_id=turn.user_id, user_id=turn.user_id,
                       payload={"turn_id": turn.id})
    return turn


def skip_meeting(db: Session, team_id: str, turn_id: int, now: datetime | None = None, *,
                 by: access.Person, channel_id: str) -> Turn:
    """No share at this meeting: whoever was up stays first in line. Like a pause, for
    the members of the rotation's channel who are not guests (`channel_id`: where they
    pressed the button)."""
    turn, _ = open_turn(db, team_id, turn_id)
    if channel_id != turn.channel_id:
        raise UserError("That button belongs to another channel's rotation.")
    access.require_full_member(by, GUESTS_REFUSED)
    _still_open(turn, now or utcnow())
    turn.status = TurnStatus.SKIPPED
    _update_reminder(db, turn)
    return turn


def confirm(db: Session, team_id: str, turn_id: int, by: str, now: datetime | None = None) -> Turn:
    """"I'll share": only the person whose turn it is."""
    turn, _ = open_turn(db, team_id, turn_id)
    _still_open(turn, now or utcnow())
    if turn.user_id != by:
        raise UserError(f"It is <@{turn.user_id}>'s turn today; only they can take it.")
    turn.status = TurnStatus.CONFIRMED
    _update_reminder(db, turn)
    return turn


# Turns whose meeting is this close to an entry may be that entry's local day.
SHARE_WINDOW = timedelta(days=2)


def mark_shared(db: Session, team_id: str, user_id: str, now: datetime,
                channel_id: str) -> int:
    """The person logged a lesson or an opportunity in `channel_id`: their turn of that
    local day in that channel's rotation is shared. Only there: the reminder says
    "shared" to the channel, which must learn nothing of channels it cannot see."""
    rows = db.execute(
        select(Turn, Rotation.tz_name).join(Rotation, Rotation.id == Turn.rotation_id)
        .where(Turn.team_id == team_id, Turn.user_id == user_id,
               Turn.channel_id == channel_id,
               Turn.meeting_at.between(now - SHARE_WINDOW, now + SHARE_WINDOW),
               Turn.status.in_([str(s) for s in OPEN]))
    ).all()
    marked = 0
    for turn, tz_name in rows:
        if tz_name and now.astimezone(schedule.zone(tz_name)).date() == turn.meeting_date:
            turn.status = TurnStatus.SHARED
            _update_reminder(db, turn)
            marked += 1
    return marked


def current_turn(db: Session, rotation: Rotation, now: datetime) -> Turn | None:
    """Today's turn if its reminder is out and the meeting is not long past."""
    return db.scalar(select(Turn).where(
        Turn.rotation_id == rotation.id, Turn.meeting_at > now - timedelta(hours=12))
        .order_by(Turn.meeting_at.desc()).limit(1))


def _update_reminder(db: Session, turn: Turn) -> None:
    if turn.message_ts:
        outbox.enqueue(db, team_id=turn.team_id, action=OutboxAction.ROTATION_UPDATE,
                       channel_id=turn.channel_id, target_ts=turn.message_ts,
                       payload={"turn_id": turn.id})
