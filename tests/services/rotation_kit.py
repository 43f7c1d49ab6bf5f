"""A channel's rotation, set up and run through its services as the clock would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.db import Database
from bot.db.models import Rotation, Turn
from bot.services import rotation, schedule, turns
from bot.services.schedule import Schedule
from tests.services.kit import CH, WS, unit

BERLIN = "Europe/Berlin"
START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)  # a Thursday


def start_rotation(db: Database, people: list[str], *, days: str = "mon,wed,fri",
                   wall: str = "09:30", tz: str = BERLIN, lead: int = 10,
                   at: datetime = START) -> None:
    with unit(db) as session:
        for person in people:  # one by one: joining order breaks the first ties
            rotation.add(session, WS, CH, "U_LEAD", [person])
            session.flush()
        rotation.apply_schedule(session, WS, CH, "U_LEAD",
                                Schedule(schedule.parse_days(days), wall, tz, lead), now=at)


def the_rotation(db: Database) -> Rotation:
    with unit(db) as session:
        found = rotation.get(session, WS, CH)
        assert found is not None
        return found


def next_meeting(db: Database) -> tuple[date, datetime]:
    rota = the_rotation(db)
    assert rota.next_meeting_date is not None and rota.next_meeting_at is not None
    return rota.next_meeting_date, rota.next_meeting_at


def remind(db: Database, now: datetime) -> int:
    """One clock pass at `now`: claim each due meeting in a unit of work of its own."""
    with unit(db) as session:
        due = turns.due(session, now)
    claimed = 0
    for rotation_id in due:
        with unit(db) as session:
            claimed += turns.remind(session, rotation_id, now)
    return claimed


def hold_meeting(db: Database) -> Turn:
    """The clock reaches the next meeting's reminder time: the turn it claimed."""
    day, at = next_meeting(db)
    lead = timedelta(minutes=the_rotation(db).lead_minutes)
    assert remind(db, at - lead) == 1
    return turn_on(db, day)


def turn_on(db: Database, day: date) -> Turn:
    with unit(db) as session:
        return session.scalars(select(Turn).where(Turn.meeting_date == day)).one()
