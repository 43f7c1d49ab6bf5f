"""The organisation digest (PRODUCT.md §6, §7, §1): once a week, the most applauded
org-visible learnings across all teams; each week claimed once, however many clocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.db.models import DigestRun, Visibility
from bot.ids import OutboxAction
from bot.services import digest
from bot.services.access import Person
from bot.services.digest import DigestError
from bot.views.digest import digest_message
from tests.services.kit import CH, CH2, CH3, OTHER_WS, WS, log, posted, queued, react, unit

ADMIN = Person("U_ADMIN", admin=True)

# The digest: Mondays 09:00 UTC; this week's run is due at RUN.
SET_AT = datetime(2026, 6, 8, 10, 0, tzinfo=UTC)
RUN = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
IN_THE_WEEK = RUN - timedelta(days=2)


def schedule_digest(db, text: str = "here weekly mon 09:00", at: datetime = SET_AT,
                    team: str = WS) -> None:
    with unit(db) as session:
        digest.set_digest(session, team, "U_ADMIN", digest.parse_schedule(text, here=CH3),
                          now=at, by=ADMIN)


def claim_due(db, now: datetime) -> int:
    """What one clock pass does: claim every due digest, each in its own unit of work."""
    with unit(db) as session:
        due = digest.due(session, now)
    won = 0
    for digest_id, scheduled in due:
        with unit(db) as session:
            won += digest.claim(session, digest_id, scheduled, now)
    return won


def applauded(db, author: str, claps: int, *, visibility: Visibility = Visibility.ORG,
              channel: str = CH, team: str = WS, anonymous: bool = False) -> int:
    entry = log(db, author, f"An {visibility} lesson with {claps} claps", channel=channel,
                visibility=visibility, team=team, anonymous=anonymous)
    ts = posted(db, entry)
    for n in range(claps):
        react(db, f"U_FAN{n}", ts, channel=channel, team=team)
    return entry.id


def highlights(db) -> list[digest.Highlight]:
    with unit(db) as session:
        run_id = session.scalars(select(DigestRun.id)).one()
        return digest.highlights(session, run_id)[1]


def test_a_digest_is_scheduled_at_a_weekly_wall_clock_time_in_its_zone(db):
    schedule_digest(db, "<#C_LEARN|learning> weekly fri 16:00 Europe/Berlin")
    with unit(db) as session:
        row = digest.get_digest(session, WS)
    assert row.channel_id == "C_LEARN"
    local = row.next_run_at.astimezone(digest.ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.strftime("%H:%M"), local.date().isoformat()) == (
        4, "16:00", "2026-06-12")


def test_the_digest_keeps_its_local_time_across_a_dst_change():
    before = digest.next_occurrence(4, 16 * 60, "Europe/Berlin",
                                    datetime(2026, 3, 21, 0, 0, tzinfo=UTC))
    after = digest.next_occurrence(4, 16 * 60, "Europe/Berlin", before)
    assert (before.hour, after.hour) == (15, 14)  # 16:00 CET, then 16:00 CEST
    assert after - before == timedelta(days=7, hours=-1)


@pytest.mark.parametrize("typed", ["#learning weekly fri 16:00", "here daily fri 16:00",
                                   "here weekly fr 16:00", "here weekly fri 25:00",
                                   "here weekly fri 16:00 Mars/Olympus"])
def test_a_digest_schedule_that_cannot_be_read_is_refused(typed):
    with pytest.raises(DigestError):
        digest.parse_schedule(typed, here=CH)


def test_the_digest_holds_the_weeks_most_applauded_org_learnings_from_every_team(db):
    schedule_digest(db)
    with freeze_time(RUN - timedelta(days=10)):
        applauded(db, "U_OLD", 9)  # applauded the week before
    with freeze_time(IN_THE_WEEK):
        most = applauded(db, "U_ANA", 3, channel=CH)
        next_best = applauded(db, "U_BEN", 1, channel=CH2)
        applauded(db, "U_CAM", 7, visibility=Visibility.TEAM)
        log(db, "U_DAN", "private", visibility=Visibility.PRIVATE)
        applauded(db, "U_EVE", 8, team=OTHER_WS)
    assert claim_due(db, RUN) == 1
    found = highlights(db)
    assert [(h.entry.id, h.applause) for h in found] == [(most, 3), (next_best, 1)]


def test_an_anonymous_learning_in_the_digest_never_names_its_author(db):
    schedule_digest(db)
    with freeze_time(IN_THE_WEEK):
        secret = applauded(db, "U_ANA", 2, anonymous=True)
    claim_due(db, RUN)
    found = highlights(db)
    assert [h.entry.id for h in found] == [secret]
    with unit(db) as session:
        run = session.scalars(select(DigestRun)).one()
    shown = json.dumps(digest_message(run, found))
    assert "U_ANA" not in shown and "An org lesson with 2 claps" in shown


def test_each_week_is_posted_once_however_many_clocks_claim_it(db):
    schedule_digest(db)
    with unit(db) as session:
        due = digest.due(session, RUN)
    assert len(due) == 1
    won = 0
    for _clock in range(2):  # two clocks saw it due at the same moment
        with unit(db) as session:
            won += digest.claim(session, *due[0], RUN)
    assert won == 1 and claim_due(db, RUN + timedelta(minutes=1)) == 0
    [post] = queued(db, OutboxAction.POST_DIGEST)
    assert post.channel_id == CH3
    with unit(db) as session:
        assert digest.get_digest(session, WS).next_run_at == RUN + timedelta(days=7)
    assert claim_due(db, RUN + timedelta(days=7)) == 1  # and the next week, once again


def test_moving_the_digest_later_in_a_week_it_was_posted_does_not_post_it_again(db):
    schedule_digest(db)
    assert claim_due(db, RUN) == 1
    schedule_digest(db, "here weekly wed 09:00", at=RUN + timedelta(hours=1))
    wednesday = RUN + timedelta(days=2)
    assert claim_due(db, wednesday) == 0
    assert len(queued(db, OutboxAction.POST_DIGEST)) == 1
    assert claim_due(db, wednesday + timedelta(days=7)) == 1  # the next week's, as usual


def test_a_stopped_digest_is_not_posted(db):
    schedule_digest(db)
    with unit(db) as session:
        assert digest.stop_digest(session, WS, by=ADMIN)
    assert claim_due(db, RUN) == 0
    assert queued(db, OutboxAction.POST_DIGEST) == []
