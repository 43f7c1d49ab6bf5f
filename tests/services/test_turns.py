"""Who is up at each meeting (PRODUCT.md §5, §7): the reminder `lead` minutes before,
claimed once; fairness; passing costs nothing; DST; a missed reminder; shared turns."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.db.models import Kind, RotationMember, Turn, TurnStatus, Visibility
from bot.ids import OutboxAction
from bot.services import rotation, schedule, turns
from bot.services.access import Person
from bot.services.errors import UserError
from tests.services.kit import CH, WS, log, queued, rows, unit
from tests.services.rotation_kit import (
    BERLIN,
    START,
    hold_meeting,
    next_meeting,
    remind,
    start_rotation,
    the_rotation,
    turn_on,
)

MEMBER = Person("U_LEAD")  # a member of the rotation's channel, not a guest


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(moment: datetime, tz: str = BERLIN) -> str:
    return moment.astimezone(schedule.zone(tz)).strftime("%Y-%m-%d %H:%M")


def pass_turn(db, turn: Turn, by: str) -> Turn:
    with unit(db) as session:
        return turns.pass_turn(session, WS, turn.id, by, now=turn.meeting_at)


def test_the_reminder_is_queued_lead_minutes_before_the_meeting_naming_who_is_up(db):
    start_rotation(db, ["U_ANA", "U_BEN"], lead=15)
    day, at = next_meeting(db)
    assert local(at) == f"{day.isoformat()} 09:30"
    assert remind(db, at - timedelta(minutes=16)) == 0  # not yet
    assert queued(db) == []
    assert remind(db, at - timedelta(minutes=15)) == 1
    turn = turn_on(db, day)
    [reminder] = queued(db, OutboxAction.ROTATION_REMINDER)
    assert (reminder.channel_id, reminder.payload) == (CH, {"turn_id": turn.id})
    assert (turn.user_id, turn.status, turn.meeting_at) == ("U_ANA", TurnStatus.REMINDED, at)


def test_two_clocks_at_the_same_moment_claim_the_meeting_once(db):
    start_rotation(db, ["U_ANA", "U_BEN"])
    day, at = next_meeting(db)
    rota = the_rotation(db)
    claimed = 0
    for _clock in range(2):
        with unit(db) as session:
            claimed += turns.remind(session, rota.id, at - timedelta(minutes=10))
    assert claimed == 1
    assert len(rows(db, Turn)) == 1 and len(queued(db, OutboxAction.ROTATION_REMINDER)) == 1


def test_whoever_waited_longest_since_their_last_turn_goes_first(db):
    start_rotation(db, ["U_ANA", "U_BEN", "U_CAM"])
    assert [hold_meeting(db).user_id for _ in range(5)] == [
        "U_ANA", "U_BEN", "U_CAM", "U_ANA", "U_BEN"]


def test_a_pass_moves_the_turn_on_now_and_the_one_who_passed_stays_first_in_line(db):
    start_rotation(db, ["U_ANA", "U_BEN", "U_CAM"])
    turn = hold_meeting(db)
    assert turn.user_id == "U_ANA"
    passed = pass_turn(db, turn, "U_ANA")
    assert (passed.user_id, passed.status) == ("U_BEN", TurnStatus.REMINDED)
    assert hold_meeting(db).user_id == "U_ANA"  # no penalty: Ana is first next time
    assert hold_meeting(db).user_id == "U_CAM"  # Ben had his turn; Cam waited longest


def test_once_the_reminder_is_out_a_pass_updates_it_and_tells_the_next_person(db):
    start_rotation(db, ["U_ANA", "U_BEN"])
    turn = hold_meeting(db)
    with unit(db) as session:  # Slack posted the reminder (what the outbox worker records)
        session.get(Turn, turn.id).message_ts = "1700000000.000100"
    pass_turn(db, turn, "U_ANA")
    [update] = queued(db, OutboxAction.ROTATION_UPDATE)
    assert (update.target_ts, update.payload) == ("1700000000.000100", {"turn_id": turn.id})
    [dm] = queued(db, OutboxAction.ROTATION_DM)
    assert dm.user_id == "U_BEN"


def test_when_everyone_passes_nobody_shares_and_nobody_loses_their_place(db):
    start_rotation(db, ["U_ANA", "U_BEN"])
    turn = hold_meeting(db)
    pass_turn(db, turn, "U_ANA")
    last = pass_turn(db, turn, "U_BEN")
    assert (last.user_id, last.status) == (None, TurnStatus.PASSED)
    assert hold_meeting(db).user_id == "U_ANA"


def test_skipping_the_meeting_keeps_whoever_was_up_first_in_line(db):
    start_rotation(db, ["U_ANA", "U_BEN"])
    turn = hold_meeting(db)
    with unit(db) as session:
        turns.skip_meeting(session, WS, turn.id, now=turn.meeting_at, by=MEMBER,
                           channel_id=turn.channel_id)
    assert hold_meeting(db).user_id == "U_ANA"


def test_people_away_on_their_holidays_or_deactivated_are_passed_over(db):
    # Tuesday 6 January 2026 is a public holiday in Austria, not in Germany.
    start_rotation(db, ["U_ANA", "U_BEN", "U_CAM", "U_DAN"], days="tue")
    day, _ = next_meeting(db)
    assert day == date(2026, 1, 6)
    with unit(db) as session:
        rotation.set_away(session, WS, CH, "U_ANA", day, now=START)  # up to and including
        rotation.set_member_holidays(session, WS, CH, "U_CAM", "AT")
        bens = session.scalars(select(RotationMember).where(
            RotationMember.user_id == "U_BEN")).one()
        bens.deactivated = True
    assert hold_meeting(db).user_id == "U_DAN"
    assert hold_meeting(db).user_id == "U_ANA"  # back, and first in line


def test_with_nobody_available_the_meeting_has_no_one_named(db):
    start_rotation(db, ["U_ANA"])
    day, _ = next_meeting(db)
    with unit(db) as session:
        rotation.set_away(session, WS, CH, "U_ANA", day, now=START)
    turn = hold_meeting(db)
    assert (turn.user_id, turn.status) == (None, TurnStatus.MISSED)


def test_everybody_gets_turns_at_the_same_rate_passes_and_skips_included(db):
    people = ["U_ANA", "U_BEN", "U_CAM", "U_DAN"]
    start_rotation(db, people, days="daily")
    kept: Counter[str] = Counter()
    for meeting in range(24):
        turn = hold_meeting(db)
        if turn.user_id == "U_BEN" and meeting % 3 == 0:
            turn = pass_turn(db, turn, "U_BEN")
        elif meeting % 7 == 6:
            with unit(db) as session:
                turn = turns.skip_meeting(session, WS, turn.id, now=turn.meeting_at,
                                          by=MEMBER, channel_id=turn.channel_id)
        if turn.status in (TurnStatus.REMINDED, TurnStatus.CONFIRMED, TurnStatus.SHARED):
            kept[turn.user_id] += 1
    assert set(kept) == set(people)
    assert max(kept.values()) - min(kept.values()) <= 1, kept


def test_ill_share_is_pressed_by_the_person_whose_turn_it_is(db):
    start_rotation(db, ["U_ANA", "U_BEN"])
    turn = hold_meeting(db)
    with unit(db) as session, pytest.raises(UserError):
        turns.confirm(session, WS, turn.id, "U_BEN", now=turn.meeting_at)
    with unit(db) as session:
        turns.confirm(session, WS, turn.id, "U_ANA", now=turn.meeting_at)
    assert turn_on(db, turn.meeting_date).status == TurnStatus.CONFIRMED


def test_pass_to_next_is_pressed_by_the_person_whose_turn_it_is(db):
    start_rotation(db, ["U_ANA", "U_BEN", "U_CAM"])
    turn = hold_meeting(db)
    with pytest.raises(UserError):
        pass_turn(db, turn, "U_CAM")
    assert turn_on(db, turn.meeting_date).user_id == "U_ANA"


@pytest.mark.parametrize(("days_around", "tz"), [
    ((date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)), BERLIN),  # spring forward
    ((date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)), BERLIN),  # fall back
    ((date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)), "America/New_York"),
    ((date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)), "America/New_York"),
])
def test_the_meeting_stays_at_its_local_time_across_a_dst_change(db, days_around, tz):
    start_rotation(db, ["U_ANA", "U_BEN"], days="daily", tz=tz,
                   at=datetime.combine(days_around[0], time(0, 0), tzinfo=schedule.zone(tz)))
    held = [hold_meeting(db) for _ in days_around]
    assert [local(t.meeting_at, tz) for t in held] == [f"{d} 09:30" for d in days_around]


def test_a_time_lost_to_dst_moves_to_the_first_minute_after_the_gap(db):
    # Berlin, 29 March 2026: 02:00 jumps to 03:00, so 02:30 does not exist.
    start_rotation(db, ["U_ANA"], days="daily", wall="02:30", at=utc(2026, 3, 28, 12))
    turn = hold_meeting(db)
    assert (turn.meeting_date, local(turn.meeting_at)) == (date(2026, 3, 29),
                                                           "2026-03-29 03:00")
    assert local(hold_meeting(db).meeting_at) == "2026-03-30 02:30"


def test_a_time_that_happens_twice_fires_once(db):
    # Berlin, 25 October 2026: 02:30 happens at 00:30 and again at 01:30 UTC.
    start_rotation(db, ["U_ANA", "U_BEN"], days="daily", wall="02:30",
                   at=utc(2026, 10, 24, 12))
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)
    claimed = [remind(db, moment - timedelta(minutes=10)) for moment in (first, second)]
    claimed.append(remind(db, second + timedelta(minutes=5)))
    assert claimed == [1, 0, 0]
    assert [t.meeting_date for t in rows(db, Turn)] == [date(2026, 10, 25)]
    assert len(queued(db, OutboxAction.ROTATION_REMINDER)) == 1


def test_a_reminder_missed_while_down_goes_out_if_the_meeting_has_not_begun(db):
    start_rotation(db, ["U_ANA", "U_BEN"])
    day, at = next_meeting(db)
    assert remind(db, at - timedelta(minutes=2)) == 1  # back 8 minutes late
    assert turn_on(db, day).user_id == "U_ANA"
    assert len(queued(db, OutboxAction.ROTATION_REMINDER)) == 1


def test_a_reminder_missed_while_down_is_not_sent_once_the_meeting_began(db):
    start_rotation(db, ["U_ANA", "U_BEN"])
    day, at = next_meeting(db)
    assert remind(db, at + timedelta(minutes=1)) == 0
    assert queued(db, OutboxAction.ROTATION_REMINDER) == [] and rows(db, Turn) == []
    next_day, next_at = next_meeting(db)
    assert next_at > at + timedelta(minutes=1) and next_day > day
    assert hold_meeting(db).user_id == "U_ANA"  # whose turn it was is still first


def held_then_logged(db, kind: Kind, *, later: timedelta = timedelta(hours=1),
                     **kwargs) -> str:
    start_rotation(db, ["U_ANA", "U_BEN"])
    turn = hold_meeting(db)
    with freeze_time(turn.meeting_at + later):
        log(db, "U_ANA", "What I learned this week", kind=kind, **kwargs)
    return turn_on(db, turn.meeting_date).status


@pytest.mark.parametrize("kind", [Kind.LESSON, Kind.OPPORTUNITY])
def test_a_lesson_or_opportunity_logged_that_day_marks_the_turn_shared(db, kind):
    assert held_then_logged(db, kind) == TurnStatus.SHARED


def test_a_win_does_not_mark_the_turn_shared(db):
    assert held_then_logged(db, Kind.WIN) == TurnStatus.REMINDED


def test_a_lesson_logged_another_day_does_not_mark_the_turn_shared(db):
    assert held_then_logged(db, Kind.LESSON, later=timedelta(days=1)) == TurnStatus.REMINDED


@pytest.mark.parametrize("kwargs", [{"anonymous": True}, {"visibility": Visibility.PRIVATE}])
def test_an_anonymous_or_private_lesson_never_marks_the_turn(db, kwargs):
    # "Shared" on the reminder would name the author of what nobody may tie to them.
    assert held_then_logged(db, Kind.LESSON, **kwargs) == TurnStatus.REMINDED


def test_only_the_persons_own_turn_is_marked(db):
    start_rotation(db, ["U_ANA", "U_BEN"])
    turn = hold_meeting(db)
    with freeze_time(turn.meeting_at):
        log(db, "U_BEN", "Ben's lesson")
    assert turn_on(db, turn.meeting_date).status == TurnStatus.REMINDED
