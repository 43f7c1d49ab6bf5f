"""Meeting times are wall-clock in the rotation's zone, across both DST changes
(PRODUCT.md section 5): a time that does not exist moves to the first minute after the
gap; a time that exists twice fires once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.clock import remind_due
from bot.db.models import OutboxMessage, Turn
from bot.services import rotation, schedule
from bot.services.errors import UserError
from bot.services.schedule import Schedule

T, C = "T0001", "C_TEAM"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("tz", "day", "wall", "expected"), [
    # Berlin springs forward 02:00 -> 03:00: 02:30 does not exist; 03:00 CEST.
    ("Europe/Berlin", date(2026, 3, 29), "02:30", utc(2026, 3, 29, 1, 0)),
    # Berlin falls back 03:00 -> 02:00: 02:30 happens twice; the first (CEST) counts.
    ("Europe/Berlin", date(2026, 10, 25), "02:30", utc(2026, 10, 25, 0, 30)),
    # New York springs forward 02:00 -> 03:00: 02:30 does not exist; 03:00 EDT.
    ("America/New_York", date(2026, 3, 8), "02:30", utc(2026, 3, 8, 7, 0)),
    # New York falls back 02:00 -> 01:00: 02:30 exists once (EST); 01:30 twice (EDT first).
    ("America/New_York", date(2026, 11, 1), "02:30", utc(2026, 11, 1, 7, 30)),
    ("America/New_York", date(2026, 11, 1), "01:30", utc(2026, 11, 1, 5, 30)),
    # An ordinary day either side.
    ("Europe/Berlin", date(2026, 3, 30), "02:30", utc(2026, 3, 30, 0, 30)),
    ("America/New_York", date(2026, 11, 2), "02:30", utc(2026, 11, 2, 7, 30)),
])
def test_next_meeting_follows_the_dst_policy(tz, day, wall, expected):
    before = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(hours=12)
    assert schedule.next_meeting("0123456", wall, tz, before) == (day, expected)


def make_rotation(session, tz: str, wall: str, lead: int = 10, days: str = "daily"):
    rotation.add(session, T, C, "U_LEAD", ["U_ANA", "U_BEN"])
    session.flush()
    return rotation.apply_schedule(session, T, C, "U_LEAD",
                                   Schedule(schedule.parse_days(days), wall, tz, lead))


@pytest.mark.parametrize(("tz", "day", "meeting"), [
    ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 29, 1, 0)),
    ("Europe/Berlin", date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),
    ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 7, 0)),
    ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 7, 30)),
])
def test_the_clock_reminds_once_on_dst_days_at_0230(db, tz, day, meeting):
    start = meeting - timedelta(hours=6)
    with freeze_time(start), db.session() as session:
        make_rotation(session, tz, "02:30")
        session.commit()
    claims = []
    moment = start
    with freeze_time(start) as clock:  # a clock ticking every minute
        while moment < meeting + timedelta(hours=4):
            clock.move_to(moment)
            if remind_due(db):
                claims.append(moment)
            moment += timedelta(minutes=1)
    assert claims == [meeting - timedelta(minutes=10)]
    with db.session() as session:
        [turn] = session.scalars(select(Turn)).all()
        assert (turn.meeting_date, turn.meeting_at) == (day, meeting)
        assert len(session.scalars(select(OutboxMessage)).all()) == 1
        # And the day after, the reminder is at 02:30 local time again.
        rota = rotation.get(session, T, C)
        local = rota.next_meeting_at.astimezone(schedule.zone(tz))
        assert (local.date(), local.strftime("%H:%M")) == (day + timedelta(days=1), "02:30")


def test_ambiguous_time_fires_once_through_the_repeated_hour(db):
    # New York, 1 Nov 2026: 01:30 happens at 05:30 and at 06:30 UTC.
    with freeze_time("2026-11-01 00:00:00"), db.session() as session:
        make_rotation(session, "America/New_York", "01:30", lead=5)
        session.commit()
    with freeze_time(utc(2026, 11, 1, 4, 0)) as clock:
        for minute in range(0, 4 * 60):
            clock.move_to(utc(2026, 11, 1, 4, 0) + timedelta(minutes=minute))
            remind_due(db)
    with db.session() as session:
        assert [t.meeting_at for t in session.scalars(select(Turn))] == [utc(2026, 11, 1, 5, 30)]


@pytest.mark.parametrize(("text", "expected"), [
    ("mon,wed,fri 09:30 Europe/Berlin lead 15", Schedule("024", "09:30", "Europe/Berlin", 15)),
    ("weekdays 9:05", Schedule("01234", "09:05", None, 10)),
    ("tue-thu 16:00 lead 1", Schedule("123", "16:00", None, 1)),
    ("FRI,Mon 23:59 America/New_York", Schedule("04", "23:59", "America/New_York", 10)),
])
def test_schedules_parse(text, expected):
    assert schedule.parse_schedule(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("mon,wed,fry 09:30", "I don't know the day `fry`"),
    ("mon 25:00", "`25:00` is not a time"),
    ("mon 9.30", "`9.30` is not a time"),
    ("mon 09:30 Mars/Olympus", "I don't know the time zone `Mars/Olympus`"),
    ("mon 09:30 Europe/Berlin lead soon", "`lead soon`"),
    ("mon 09:30 Europe/Berlin later", "I don't understand `later`"),
    ("mon 09:30 lead 0", "`lead 0`"),
    ("mon", "Give days and a time"),
])
def test_bad_schedules_say_what_is_wrong(text, says):
    with pytest.raises(UserError, match=None) as error:
        schedule.parse_schedule(text)
    assert says in str(error.value)


def test_holidays_move_the_meeting_to_the_next_working_day():
    # 25 and 26 December 2026 are German public holidays (a Friday and a Saturday).
    is_holiday = lambda day: schedule.is_holiday("DE", day)  # noqa: E731
    found = schedule.next_meeting("0123456", "09:30", "Europe/Berlin", utc(2026, 12, 24, 12),
                                  is_holiday)
    assert found == (date(2026, 12, 27), utc(2026, 12, 27, 8, 30))
    with pytest.raises(UserError, match="I don't know public holidays for `XX`"):
        schedule.country("xx")
    assert schedule.country("de") == "DE"


def test_after_days_down_only_a_meeting_not_yet_begun_is_reminded(db):
    with freeze_time("2026-01-01 06:00:00"), db.session() as session:
        make_rotation(session, "Europe/Berlin", "09:30")
        session.commit()
    # Back on 5 January at 09:25 Berlin: the reminder (09:20) is late, the meeting not begun.
    back = utc(2026, 1, 5, 8, 25)
    assert remind_due(db, back) + remind_due(db, back) == 1
    with db.session() as session:
        assert [t.meeting_date for t in session.scalars(select(Turn))] == [date(2026, 1, 5)]
        assert rotation.get(session, T, C).next_meeting_date == date(2026, 1, 6)
