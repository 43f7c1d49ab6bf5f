"""Nudges (PRODUCT.md §3): a collaborator who added nothing for a while gets one DM per
quiet stretch, at 10:00 on one of their working days (never a weekend or one of their
holidays, across DST too), with buttons that open the form on the card and mutes; exactly
once per person and period, even with two clock processes.

Cards and people come in through signed HTTP; the clock is `nudge_due(database, now)`
with `now` given, and what it queues goes to the fake Slack through the real outbox. A
person's quiet stretch is moved into the past by editing when they were last active, then
planned again as any change does (`/debrief nudges every 7 days`)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.clock import nudge_due
from bot.db.models import CardCollaborator, NudgeMute, OutboxMessage
from bot.ids import OutboxAction
from bot.services import cards, collaborators
from tests.test_cards import add_from_card, card_row, open_card
from tests.test_collaborators import ANA, BEN, mention, open_with, press

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch):
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.2))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def quiet_since(db, user: str, when: datetime) -> None:
    """`user` was last active on the card at `when` (and was never nudged)."""
    with db.session() as session:
        session.execute(update(CardCollaborator).where(CardCollaborator.user_id == user)
                        .values(active_at=when, added_at=when, nudged_at=None))
        session.commit()


def replan(bot) -> None:
    """Plan every nudge in the channel again, as changing its period does (once the
    outbox has learned everyone's Slack zone)."""
    bot.settle()
    assert "nudge after 7 quiet days" in bot.slack.command("nudges every 7 days").text


def next_nudge(db, user: str, card_id: int = 1) -> datetime | None:
    with db.session() as session:
        return session.scalar(select(CardCollaborator.next_nudge_at).where(
            CardCollaborator.user_id == user, CardCollaborator.card_id == card_id))


def nudges_to(bot, fake_slack, user: str) -> list:
    bot.settle()
    return [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == user
            and "have added nothing to it" in c.body["text"]]


def team_meets_in(bot, tz: str, *people: str) -> None:
    """The channel's rotation (its members' calendars come from it)."""
    bot.slack.command("rotation add " + " ".join(mention(p) for p in people))
    assert "Mon" in bot.slack.command(f"rotation schedule mon 09:30 {tz}").text


def test_a_quiet_collaborator_gets_one_nudge_per_period_with_the_form_on_the_card(
        bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA, BEN)
    quiet_since(db, ANA, utc(2026, 11, 2, 9))   # a Monday
    quiet_since(db, BEN, utc(2026, 11, 5, 9))   # Thursday
    replan(bot)
    assert next_nudge(db, ANA) == utc(2026, 11, 9, 10)  # a week on, 10:00 (UTC: no zone)
    assert next_nudge(db, BEN) == utc(2026, 11, 12, 10)

    assert nudge_due(db, utc(2026, 11, 9, 9, 59)) == 0
    assert nudge_due(db, utc(2026, 11, 9, 10)) == 1
    assert nudge_due(db, utc(2026, 11, 9, 10)) == 0  # the same period: never twice
    [dm] = nudges_to(bot, fake_slack, ANA)
    assert "“Launch the new checkout” in <#C_TEAM>" in dm.body["text"]
    assert "added nothing to it in the last 7 days" in dm.body["text"]
    text = dm.blocks_text()
    assert "*Win*" in text and "*Opportunity*" in text and "*Lesson*" in text
    assert [e["action_id"] for b in dm.body["blocks"] if b["type"] == "actions"
            for e in b["elements"]] == ["card_add_win", "card_add_opportunity",
                                        "card_add_lesson", "nudge_mute_card",
                                        "nudge_mute_all"]
    assert "U_BEN" not in dm.blocks_text()  # about her alone

    # Its button opens the form on the card; what she adds restarts her clock.
    add_from_card(bot, fake_slack, card, "lesson", "flags first", user=ANA)
    assert next_nudge(db, ANA) > datetime.now(UTC) + timedelta(days=6)

    assert nudge_due(db, utc(2026, 11, 12, 10)) == 1  # Ben's turn, then a week later again
    assert nudge_due(db, utc(2026, 11, 19, 10)) == 1
    assert len(nudges_to(bot, fake_slack, BEN)) == 2


def test_never_on_a_weekend_even_when_the_clock_was_down(bot, fake_slack, db):
    open_with(bot, fake_slack, db, ANA, BEN)
    quiet_since(db, ANA, utc(2026, 11, 7, 12))  # Saturday: a week on is Saturday again
    quiet_since(db, BEN, utc(2026, 11, 6, 12))  # Friday
    replan(bot)
    assert next_nudge(db, ANA) == utc(2026, 11, 16, 10)  # Monday
    assert next_nudge(db, BEN) == utc(2026, 11, 13, 10)  # Friday

    # The clock is down from Friday morning and comes back on Saturday: too late for
    # Ben's Friday; not on his weekend either, so on Monday.
    assert nudge_due(db, utc(2026, 11, 14, 12)) == 0
    assert next_nudge(db, BEN) == utc(2026, 11, 16, 10)
    sent = []
    moment = utc(2026, 11, 14, 13)
    while moment <= utc(2026, 11, 16, 12):
        if nudge_due(db, moment):
            sent.append(moment)
        moment += timedelta(hours=1)
    assert sent == [utc(2026, 11, 16, 10)]
    assert len(nudges_to(bot, fake_slack, ANA)) == len(nudges_to(bot, fake_slack, BEN)) == 1


@pytest.mark.parametrize(("active", "due"), [
    # Berlin springs forward on Sunday 28 March 2027: 10:00 is 09:00 UTC before, 08:00 after.
    (utc(2027, 3, 22, 9, 30), utc(2027, 3, 29, 8, 0)),
    # …and falls back on Sunday 31 October 2027: 10:00 is 08:00 UTC before, 09:00 after.
    (utc(2027, 10, 26, 8, 30), utc(2027, 11, 2, 9, 0)),
])
def test_the_nudge_keeps_to_10_local_across_dst(bot, fake_slack, db, active, due):
    open_with(bot, fake_slack, db, ANA)
    team_meets_in(bot, "Europe/Berlin", ANA)
    quiet_since(db, ANA, active)
    replan(bot)
    assert next_nudge(db, ANA) == due
    assert nudge_due(db, due - timedelta(minutes=1)) == 0
    assert nudge_due(db, due) == 1
    assert len(nudges_to(bot, fake_slack, ANA)) == 1


def test_never_on_the_persons_own_holidays(bot, fake_slack, db):
    open_with(bot, fake_slack, db, ANA, BEN)
    team_meets_in(bot, "Europe/Berlin", ANA, BEN)
    assert "DE" in bot.slack.command(f"rotation holidays {mention(ANA)} DE").text
    quiet_since(db, ANA, utc(2026, 12, 18, 9))  # a week on: Friday 25 December
    quiet_since(db, BEN, utc(2026, 12, 18, 9))
    replan(bot)
    assert next_nudge(db, BEN) == utc(2026, 12, 25, 9)  # 10:00 in Berlin: not his holiday
    # Christmas Day and Boxing Day in Germany, then Sunday: Monday for her.
    assert next_nudge(db, ANA) == utc(2026, 12, 28, 9)
    assert nudge_due(db, utc(2026, 12, 25, 9)) == 1
    assert nudges_to(bot, fake_slack, ANA) == []
    assert nudge_due(db, utc(2026, 12, 28, 9)) == 1
    assert len(nudges_to(bot, fake_slack, ANA)) == 1


def nudged_at_hours(db, start: datetime, end: datetime) -> list[datetime]:
    """Run the clock every hour from `start` to `end`: when it nudged someone."""
    sent, moment = [], start
    while moment <= end:
        if nudge_due(db, moment):
            sent.append(moment)
        moment += timedelta(hours=1)
    return sent


def test_someone_in_no_rotation_is_nudged_in_their_own_slack_zone(bot, fake_slack, db):
    fake_slack.users[ANA] = {"id": ANA, "name": "ana", "deleted": False,
                             "tz": "America/Los_Angeles"}
    open_with(bot, fake_slack, db, ANA)  # no rotation anywhere
    quiet_since(db, ANA, utc(2026, 11, 6, 20))  # Friday 12:00 in California
    replan(bot)
    # A week on: Friday 13 November, 10:00 in California (18:00 UTC), not 10:00 UTC.
    assert next_nudge(db, ANA) == utc(2026, 11, 13, 18)
    # The clock is down until Saturday 10:00 there: not on her Saturday or Sunday, not at
    # 02:00 on her Monday (10:00 UTC), but Monday 10:00 her time.
    sent = nudged_at_hours(db, utc(2026, 11, 14, 18), utc(2026, 11, 17, 12))
    assert sent == [utc(2026, 11, 16, 18)]
    assert len(nudges_to(bot, fake_slack, ANA)) == 1
    # Her next: a week on, on her Monday morning again.
    assert next_nudge(db, ANA) == utc(2026, 11, 23, 18)


def test_a_collaborator_whose_zone_is_not_known_yet_waits_for_it(bot, fake_slack, db):
    """Someone from before zones were learned: the clock asks Slack, never nudges at
    10:00 UTC, and nudges at 10:00 in their zone."""
    open_with(bot, fake_slack, db, ANA)
    fake_slack.users[ANA] = {"id": ANA, "name": "ana", "deleted": False,
                             "tz": "America/Los_Angeles"}
    quiet_since(db, ANA, utc(2026, 11, 2, 20))  # Monday
    replan(bot)
    with db.session() as session:  # as a row from before the zone was kept
        session.execute(update(CardCollaborator).values(tz_name=None,
                                                        next_nudge_at=utc(2026, 11, 9, 10)))
        session.commit()
    asked = len(fake_slack.calls_to("users.info"))
    assert nudge_due(db, utc(2026, 11, 9, 10)) == 0  # 02:00 in California
    bot.settle()
    assert [c.body["user"] for c in fake_slack.calls_to("users.info")[asked:]] == [ANA]
    assert next_nudge(db, ANA) == utc(2026, 11, 9, 18)
    assert nudged_at_hours(db, utc(2026, 11, 9, 11), utc(2026, 11, 10, 10)) == \
        [utc(2026, 11, 9, 18)]
    assert len(nudges_to(bot, fake_slack, ANA)) == 1


def test_muting_one_card_or_every_nudge(bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA, BEN)
    quiet_since(db, ANA, utc(2026, 11, 2, 9))
    quiet_since(db, BEN, utc(2026, 11, 2, 9))
    replan(bot)
    press(bot, "nudge_mute_card", card, ANA, channel="D_ANA")  # from the nudge DM
    press(bot, "nudge_mute_all", card, BEN, channel="D_BEN")
    assert next_nudge(db, ANA) is None and next_nudge(db, BEN) is None
    assert nudge_due(db, utc(2026, 11, 9, 10)) == 0
    bot.settle()
    said = {c.body["user"]: c.body["text"] for c in fake_slack.succeeded("chat.postEphemeral")}
    assert "No more nudges about “Launch the new checkout”" in said[ANA]
    assert "No more nudges at all" in said[BEN]
    status = bot.slack.command("nudges", user=BEN).text
    assert "You have turned them all off" in status
    # Muted everywhere: a card he joins later stays quiet too.
    open_card(bot, fake_slack, db, f"Second {mention(BEN)}")
    assert next_nudge(db, BEN, card_id=2) is None

    assert "on again" in bot.slack.command("nudges on", user=BEN).text
    assert next_nudge(db, BEN) == utc(2026, 11, 9, 10)
    assert next_nudge(db, BEN, card_id=2) is not None
    with db.session() as session:
        assert session.scalars(select(NudgeMute)).all() == []
    assert "on again" in bot.slack.command("nudges 1 on", user=ANA).text
    assert next_nudge(db, ANA) == utc(2026, 11, 9, 10)


def test_a_card_or_its_channel_sets_how_long_is_a_while(bot, fake_slack, db):
    open_with(bot, fake_slack, db, ANA)
    quiet_since(db, ANA, utc(2026, 11, 2, 9))  # Monday
    assert "nudge after 3 quiet days" in bot.slack.command("nudges every 3 days").text
    assert next_nudge(db, ANA) == utc(2026, 11, 5, 10)
    refused = bot.slack.command("nudges 1 every 2 weeks", user=ANA)
    assert "Only the card's opener" in refused.text
    assert "nudges after 14 quiet days" in bot.slack.command("nudges 1 every 2 weeks").text
    assert next_nudge(db, ANA) == utc(2026, 11, 16, 10)
    bot.slack.command("nudges every 5 days")  # the card's own still wins
    assert next_nudge(db, ANA) == utc(2026, 11, 16, 10)
    for bad in ("nudges every 0 days", "nudges every 100 days", "nudges sometimes"):
        assert bot.slack.command(bad).text.startswith(":warning:"), bad


def test_closing_stops_the_nudges_even_one_already_queued(bot, fake_slack, db):
    open_with(bot, fake_slack, db, ANA, BEN)
    quiet_since(db, ANA, utc(2026, 11, 2, 9))
    replan(bot)
    bot.runtime.worker.stop()
    assert nudge_due(db, utc(2026, 11, 9, 10)) == 1  # queued, not sent yet
    press(bot, "card_close_anyway", card_row(db), "U_ALICE")
    assert card_row(db).status == "closed"
    assert next_nudge(db, BEN) is None
    bot.runtime.worker.start()
    assert nudges_to(bot, fake_slack, ANA) == []  # dropped when it came to be sent


def test_any_entry_of_their_own_restarts_their_clock(bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA)
    quiet_since(db, ANA, utc(2026, 11, 2, 9))
    replan(bot)
    add_from_card(bot, fake_slack, card, "lesson", "only Ana knows", user=ANA,
                  anonymous=["yes"])
    assert next_nudge(db, ANA) > datetime.now(UTC) + timedelta(days=6)


CLOCK = """
import sys, time
from datetime import datetime, UTC
from bot.clock import nudge_due
from bot.db import Database
url, start, now = sys.argv[1], float(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
database = Database(url)
database.ping()  # connect before the start line, so both race on the claim itself
time.sleep(max(0.0, start - time.time()))
print(nudge_due(database, now))
"""


def test_two_clock_processes_nudge_each_person_exactly_once(database_url, db):
    people = [f"U_P{n:02d}" for n in range(6)]
    with db.session() as session:
        for n in range(40):
            collaborators.open_card(session, team_id="T0001", channel_id="C_TEAM",
                                    user_id="U_ALICE", title=f"Card {n}", named=people)
        session.execute(update(CardCollaborator).values(  # zones learned: none (UTC)
            active_at=utc(2026, 11, 2, 9), next_nudge_at=utc(2026, 11, 9, 10), tz_name=""))
        session.commit()
    now = utc(2026, 11, 9, 10).isoformat()
    start = time.time() + 3
    clocks = [subprocess.Popen([sys.executable, "-c", CLOCK, database_url, str(start), now],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(2)]
    results = [clock.communicate(timeout=120) for clock in clocks]
    assert all(clock.returncode == 0 for clock in clocks), results
    nudged = [int(out.strip()) for out, _ in results]
    with db.session() as session:
        rows = session.execute(select(OutboxMessage.card_id, OutboxMessage.user_id).where(
            OutboxMessage.action == OutboxAction.CARD_NUDGE)).all()
        planned = session.scalars(select(CardCollaborator.next_nudge_at)).all()
    assert sum(nudged) == len(rows) == 40 * len(people)
    assert len(set(rows)) == len(rows)  # nobody twice
    assert set(planned) == {utc(2026, 11, 16, 10)}  # everyone's next: a week on
