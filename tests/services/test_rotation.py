"""A channel's rotation (PRODUCT.md §5): its roster, its schedule, public holidays,
pause and resume. A refused change changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Rotation, RotationMember
from bot.ids import OutboxAction
from bot.services import rotation, schedule
from bot.services.errors import UserError
from bot.services.schedule import Schedule
from tests.services.kit import CH, CH2, WS, count, queued, unit
from tests.services.rotation_kit import (
    BERLIN,
    START,
    hold_meeting,
    next_meeting,
    remind,
    start_rotation,
    the_rotation,
)


def roster(db, channel: str = CH) -> list[str]:
    with unit(db) as session:
        found = rotation.get(session, WS, channel)
        return [m.user_id for m in rotation.members(session, found)] if found else []


def test_people_are_added_once_and_told_who_was_already_in(db):
    with unit(db) as session:
        assert rotation.add(session, WS, CH, "U_LEAD", ["U_ANA", "U_BEN"]) == (
            ["U_ANA", "U_BEN"], [])
    with unit(db) as session:
        assert rotation.add(session, WS, CH, "U_LEAD", ["U_BEN", "U_CAM"]) == (
            ["U_CAM"], ["U_BEN"])
    assert sorted(roster(db)) == ["U_ANA", "U_BEN", "U_CAM"]
    assert roster(db, CH2) == []  # a rotation is one channel's


def test_removing_or_leaving_takes_the_person_out_and_no_one_else(db):
    with unit(db) as session:
        rotation.add(session, WS, CH, "U_LEAD", ["U_ANA", "U_BEN"])
    with unit(db) as session:
        rotation.remove(session, WS, CH, "U_ANA")
    assert roster(db) == ["U_BEN"]


def test_removing_someone_who_is_not_in_the_rotation_is_refused(db):
    with unit(db) as session:
        rotation.add(session, WS, CH, "U_LEAD", ["U_ANA"])
    with unit(db) as session, pytest.raises(UserError):
        rotation.remove(session, WS, CH, "U_BEN")
    assert roster(db) == ["U_ANA"]


@pytest.mark.parametrize("typed", ["@ana", "<@U_ANA> bob", "", "<#C123|general>"])
def test_people_are_named_by_slack_mentions_only(typed):
    with pytest.raises(UserError):
        rotation.mentioned(typed)


def test_mentions_name_people_once_each():
    assert rotation.mentioned("<@U_ANA|ana> <@U_BEN> <@U_ANA>") == ["U_ANA", "U_BEN"]


def test_a_schedule_names_days_a_time_and_optionally_a_zone_and_a_lead():
    assert schedule.parse_schedule("mon,wed,fri 09:30 Europe/Berlin lead 15") == \
        Schedule("024", "09:30", BERLIN, 15)
    # No zone: the caller's Slack time zone, looked up later; no lead: 10 minutes.
    assert schedule.parse_schedule("weekdays 9:05") == Schedule("01234", "09:05", None, 10)


@pytest.mark.parametrize("typed", ["mon,wed,fry 09:30", "mon 25:00", "mon 9.30",
                                   "mon 09:30 Mars/Olympus", "mon 09:30 lead 0", "mon",
                                   "mon 09:30 Europe/Berlin lead soon"])
def test_a_schedule_that_cannot_be_read_is_refused(typed):
    with pytest.raises(UserError):
        schedule.parse_schedule(typed)


def test_a_rotation_with_nobody_in_it_cannot_be_scheduled(db):
    with unit(db) as session, pytest.raises(UserError):
        rotation.apply_schedule(session, WS, CH, "U_LEAD",
                                Schedule("0", "09:30", BERLIN, 10), now=START)
    assert count(db, Rotation) == 0


def test_scheduling_sets_the_next_meeting_at_the_local_time(db):
    start_rotation(db, ["U_ANA"], days="mon,wed,fri", wall="09:30")
    day, at = next_meeting(db)
    assert day == date(2026, 1, 2)  # Friday, the first meeting day after Thursday 06:00
    assert at == datetime(2026, 1, 2, 8, 30, tzinfo=UTC)  # 09:30 in Berlin (CET)
    assert the_rotation(db).next_reminder_at == at - timedelta(minutes=10)


def test_no_meeting_on_the_rotations_public_holidays(db):
    # 25 and 26 December 2026 are German public holidays.
    start_rotation(db, ["U_ANA"], days="daily", at=datetime(2026, 12, 24, 12, tzinfo=UTC))
    with unit(db) as session:
        rotation.set_holidays(session, WS, CH, "de", now=datetime(2026, 12, 24, 12, tzinfo=UTC))
    assert next_meeting(db)[0] == date(2026, 12, 27)
    with unit(db) as session, pytest.raises(UserError):
        rotation.set_holidays(session, WS, CH, "XX")


def test_a_paused_rotation_sends_no_reminder_until_it_is_resumed(db):
    start_rotation(db, ["U_ANA"], days="daily")
    _, at = next_meeting(db)
    with unit(db) as session:
        rotation.set_paused(session, WS, CH, True, now=START)
    assert remind(db, at) == 0 and remind(db, at + timedelta(days=3)) == 0
    assert queued(db, OutboxAction.ROTATION_REMINDER) == []
    with unit(db) as session:
        rotation.set_paused(session, WS, CH, False, now=at + timedelta(days=3))
    assert hold_meeting(db).user_id == "U_ANA"


def test_away_is_refused_for_a_date_in_the_past_and_nothing_changes(db):
    start_rotation(db, ["U_ANA"])
    with unit(db) as session, pytest.raises(UserError):
        rotation.set_away(session, WS, CH, "U_ANA", date(2025, 12, 1), now=START)
    with unit(db) as session:
        assert session.scalars(select(RotationMember.away_until)).one() is None
