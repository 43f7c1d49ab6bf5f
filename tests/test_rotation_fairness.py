"""Fairness: longest since the last turn goes first; a pass or a skipped meeting costs
nothing; people away or deactivated are passed over; over a year everybody who is always
available gets the same number of turns, give or take one."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import remind_due
from bot.db.models import RotationMember, Turn, TurnStatus
from bot.services import rotation, schedule, turns
from bot.services.access import Person
from bot.services.errors import UserError
from bot.services.schedule import Schedule

T, C = "T0001", "C_TEAM"
START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)


def setup(db, people: list[str], days: str = "mon,wed,fri") -> None:
    with db.session() as session:
        for person in people:  # one by one: joining order breaks the first ties
            rotation.add(session, T, C, "U_LEAD", [person])
            session.flush()
        rotation.apply_schedule(session, T, C, "U_LEAD", Schedule(
            schedule.parse_days(days), "09:30", "Europe/Berlin", 10), now=START)
        session.commit()


def next_meeting(db) -> tuple[date, datetime]:
    with db.session() as session:
        rota = rotation.get(session, T, C)
        assert rota is not None and rota.next_meeting_date and rota.next_meeting_at
        return rota.next_meeting_date, rota.next_meeting_at


def hold_meeting(db) -> Turn:
    """Let the clock send the next reminder; return the turn it claimed."""
    day, at = next_meeting(db)
    assert remind_due(db, at - timedelta(minutes=10)) == 1
    with db.session() as session:
        return session.scalars(select(Turn).where(Turn.meeting_date == day)).one()


def test_longest_since_last_turn_goes_first_and_a_pass_costs_nothing(db):
    setup(db, ["U_ANA", "U_BEN", "U_CAM"])
    assert hold_meeting(db).user_id == "U_ANA"
    turn = hold_meeting(db)
    assert turn.user_id == "U_BEN"
    with db.session() as session:
        passed = turns.pass_turn(session, T, turn.id, "U_BEN", now=turn.meeting_at)
        session.commit()
        assert passed.user_id == "U_CAM"  # the turn moves on at once
    # Ben passed, so he is first in line next time, ahead of Ana.
    assert hold_meeting(db).user_id == "U_BEN"
    assert hold_meeting(db).user_id == "U_ANA"


def test_skipping_the_meeting_keeps_the_person_first_in_line(db):
    setup(db, ["U_ANA", "U_BEN"])
    turn = hold_meeting(db)
    with db.session() as session:
        turns.skip_meeting(session, T, turn.id, now=turn.meeting_at,
                           by=Person("U_LEAD"), channel_id=turn.channel_id)
        session.commit()
        with pytest.raises(UserError, match="already skipped"):
            turns.pass_turn(session, T, turn.id, "U_ANA", now=turn.meeting_at)
    assert hold_meeting(db).user_id == "U_ANA"


def test_when_everyone_passes_the_turn_ends_as_passed(db):
    setup(db, ["U_ANA", "U_BEN"])
    turn = hold_meeting(db)
    with db.session() as session:
        turns.pass_turn(session, T, turn.id, "U_ANA", now=turn.meeting_at)
        last = turns.pass_turn(session, T, turn.id, "U_BEN", now=turn.meeting_at)
        session.commit()
    assert (last.user_id, last.status, last.passed_by) == (None, "passed", ["U_ANA", "U_BEN"])


def test_away_and_deactivated_people_are_passed_over(db):
    setup(db, ["U_ANA", "U_BEN", "U_CAM"])
    day, _ = next_meeting(db)
    with db.session() as session:
        rotation.set_away(session, T, C, "U_ANA", day, now=START)
        cam = session.scalars(select(RotationMember).where(
            RotationMember.user_id == "U_CAM")).one()
        cam.deactivated = True
        session.commit()
    assert hold_meeting(db).user_id == "U_BEN"
    assert hold_meeting(db).user_id == "U_ANA"  # back the day after `until`


def test_nobody_available_means_no_turn_and_an_honest_message(db):
    setup(db, ["U_ANA"])
    day, _ = next_meeting(db)
    with db.session() as session:
        rotation.set_away(session, T, C, "U_ANA", day + timedelta(days=30), now=START)
        session.commit()
    turn = hold_meeting(db)
    assert (turn.user_id, turn.status) == (None, TurnStatus.MISSED)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_year_of_meetings_is_fair_to_everyone_always_available(db, seed):
    """Six people always there; one often away; one who passes now and then."""
    rng = random.Random(seed)
    steady = [f"U_S{n}" for n in range(6)]
    setup(db, ["U_AWAY", *steady, "U_PASSER"])
    counts: Counter[str] = Counter()
    meetings = 0
    while True:
        day, at = next_meeting(db)
        if day >= date(2027, 1, 1):
            break
        if rng.random() < 0.1:  # two weeks off, now and then
            with db.session() as session:
                rotation.set_away(session, T, C, "U_AWAY", day + timedelta(days=14),
                                  now=at - timedelta(hours=1))
                session.commit()
        turn = hold_meeting(db)
        meetings += 1
        with db.session() as session:
            if turn.user_id == "U_PASSER" and rng.random() < 0.5:
                turn = turns.pass_turn(session, T, turn.id, "U_PASSER", now=at,
                                       admin=True)  # an admin, for whoever is up
            elif rng.random() < 0.05:
                turn = turns.skip_meeting(session, T, turn.id, now=at,
                                          by=Person("U_LEAD"), channel_id=turn.channel_id)
            session.commit()
        if turn.status in turns.KEPT:
            counts[turn.user_id] += 1
    assert meetings >= 150
    steady_counts = [counts[person] for person in steady]
    assert max(steady_counts) - min(steady_counts) <= 1, counts
    assert counts["U_AWAY"] > 0 and counts["U_PASSER"] > 0


def test_someone_on_their_own_countrys_holiday_is_passed_over(db):
    setup(db, ["U_ANA", "U_BEN"], days="daily")
    with db.session() as session:
        rotation.set_member_holidays(session, T, C, "U_ANA", "us")
        session.commit()
    # Move the next meeting to US Thanksgiving (Thursday 26 November 2026).
    with db.session() as session:
        rota = rotation.get(session, T, C)
        turns.reschedule(rota, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
        session.commit()
    turn = hold_meeting(db)
    assert (turn.meeting_date, turn.user_id) == (date(2026, 11, 26), "U_BEN")
    assert hold_meeting(db).user_id == "U_ANA"  # first in line the day after


def test_upcoming_turns_for_the_app_home(db):
    setup(db, ["U_ANA", "U_BEN", "U_CAM"], days="mon,wed,fri")
    with db.session() as session:
        mine = rotation.upcoming_turns(session, T, "U_BEN", limit=2, now=START)
        rota = rotation.get(session, T, C)
        first = rota.next_meeting_at
    assert [u.channel_id for u in mine] == [C, C]
    # Ana has the first meeting; Ben the second and, three meetings on, the fifth.
    assert mine[0].meeting_at > first and not mine[0].confirmed
    assert (mine[1].meeting_at - mine[0].meeting_at) >= timedelta(days=6)
    turn = hold_meeting(db)
    with db.session() as session:
        [now] = rotation.upcoming_turns(session, T, "U_ANA", 1, now=turn.meeting_at
                                        - timedelta(minutes=5))
        assert (now.user_id, now.meeting_at, now.confirmed) == ("U_ANA", turn.meeting_at, True)
        assert rotation.upcoming_turns(session, T, "U_NOBODY", 3, now=START) == []
    assert turn.user_id == "U_ANA"
