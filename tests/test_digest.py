"""/debrief digest and the weekly post, through signed HTTP and the clock's own job."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, update

from bot.clock import claim_due_digests, post_due_digests
from bot.db.models import Applause, Digest, DigestRun, Entry, OutboxMessage, utcnow
from bot.services import digest
from tests.kit.clocks import two_clocks


@pytest.fixture(autouse=True)
def admins(fake_slack):
    """Who schedules the digest here is a workspace admin (PRODUCT.md §7)."""
    fake_slack.users["U_ALICE"] = {"id": "U_ALICE", "name": "alice", "is_admin": True}


def stored(db) -> Digest | None:
    with db.session() as session:
        return session.scalar(select(Digest))


def test_scheduling_in_another_channel_with_a_time_zone(bot, db):
    answer = bot.slack.command("digest <#C_LEARN|learning> weekly fri 16:00 Europe/Berlin")
    assert answer.status == 200
    assert "<#C_LEARN>" in answer.text and "every Friday at 16:00 (Europe/Berlin)" in answer.text
    row = stored(db)
    assert (row.channel_id, row.weekday, row.minute_of_day, row.timezone) == (
        "C_LEARN", 4, 960, "Europe/Berlin")
    assert "every Friday" in bot.slack.command("digest").text
    # Once per workspace: scheduling again replaces it.
    bot.slack.command("digest <#C_OTHER> weekly Monday 9:30")
    row = stored(db)
    assert (row.channel_id, row.weekday, row.minute_of_day, row.timezone) == (
        "C_OTHER", 0, 570, "UTC")
    assert "stopped" in bot.slack.command("digest off").text
    assert stored(db) is None
    assert "No organisation digest" in bot.slack.command("digest").text


def test_here_means_this_channel(bot, db):
    bot.slack.command("digest here weekly wed 12:00", channel="C_HERE")
    assert stored(db).channel_id == "C_HERE"


@pytest.mark.parametrize(("typed", "says"), [
    ("#learning weekly fri 16:00", "Which channel?"),
    ("<#C_LEARN> daily fri 16:00", "weekly"),
    ("<#C_LEARN> weekly fr 16:00", "not a day"),
    ("<#C_LEARN> weekly fri 25:00", "not a time"),
    ("<#C_LEARN> weekly fri 4pm", "not a time"),
    ("<#C_LEARN> weekly fri 16:00 Mars/Olympus", "not a time zone"),
    ("<#C_LEARN> weekly fri 16:00 UTC extra", "weekly"),
])
def test_bad_input_is_explained_and_nothing_changes(bot, db, typed, says):
    answer = bot.slack.command("digest " + typed)
    assert answer.text.startswith(":warning:") and says in answer.text
    assert stored(db) is None


def due_now(db) -> None:
    """Bring the scheduled time to a minute ago (the week ends then)."""
    with db.session() as session:
        session.execute(update(Digest).values(next_run_at=utcnow() - timedelta(minutes=1)))
        session.commit()


_ts = itertools.count(1)


def add(session, text, *, visibility="org", anonymous=False, author="U_BOB", team="T0001",
        claps=0, days_ago=1, channel="C_TEAM") -> None:
    entry = Entry(team_id=team, channel_id=channel, author_id=author, kind="lesson", text=text,
                  visibility=visibility, anonymous=anonymous, tags="",
                  message_channel_id=channel, message_ts=f"{1700000000 + next(_ts)}.0001")
    session.add(entry)
    session.flush()
    for n in range(claps):
        session.add(Applause(team_id=team, channel_id=channel, message_ts=entry.message_ts,
                             reactor_id=f"U_FAN{n}", emoji="tada", author_id=author,
                             entry_id=entry.id,
                             created_at=utcnow() - timedelta(days=days_ago, minutes=2)))


def test_the_weeks_most_applauded_org_learnings_and_nothing_else(bot, fake_slack, db):
    with db.session() as session:
        add(session, "Named org lesson", claps=3, channel="C_ONE")
        add(session, "Anonymous org lesson", claps=2, anonymous=True, author="U_CAROL",
            channel="C_TWO")
        add(session, "Team-only lesson", visibility="team", claps=9)
        add(session, "Private lesson", visibility="private", claps=9)
        add(session, "Old org lesson", claps=9, days_ago=8)
        add(session, "Unapplauded org lesson")
        add(session, "Other workspace org lesson", claps=9, team="T_OTHER")
        session.commit()
    bot.slack.command("digest <#C_LEARN> weekly mon 09:00")
    due_now(db)

    assert post_due_digests(bot.runtime) == 1
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post.body["channel"] == "C_LEARN"
    seen = post.blocks_text()
    assert seen.index("Named org lesson") < seen.index("Anonymous org lesson")
    assert "3 applause" in seen and "2 applause" in seen
    assert "a teammate, anonymously" in seen and "U_CAROL" not in seen
    assert "<@U_BOB>" in seen
    for never in ("Team-only", "Private", "Old org", "Unapplauded", "Other workspace"):
        assert never not in seen


def test_a_quiet_week_still_says_so(bot, fake_slack, db):
    bot.slack.command("digest here weekly mon 09:00")
    due_now(db)
    post_due_digests(bot.runtime)
    assert "No org-visible learnings were applauded" in \
        fake_slack.wait_for("chat.postMessage")[0].blocks_text()


def test_once_a_week_even_when_the_job_runs_again(bot, fake_slack, db):
    bot.slack.command("digest here weekly mon 09:00")
    due_now(db)
    assert post_due_digests(bot.runtime) == 1
    assert post_due_digests(bot.runtime) == 0
    fake_slack.wait_for("chat.postMessage")
    bot.settle()  # anything else queued has been tried by now
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    # Moving the digest to a later day of the same week does not post it again that week.
    with db.session() as session:
        run = session.scalar(select(DigestRun))
        same_week = run.period_end + timedelta(hours=1)
        session.execute(update(Digest).values(next_run_at=same_week))
        session.commit()
    with freeze_time(same_week + timedelta(minutes=1)):
        assert claim_due_digests(db, utcnow()) == 0
    assert stored(db).next_run_at > same_week  # and it has moved on to next week


def test_two_clocks_post_each_digest_exactly_once(database_url, db):
    teams = [f"T{n:03d}" for n in range(20)]
    with db.session() as session:
        for team in teams:
            session.add(Digest(team_id=team, channel_id="C_LEARN", weekday=0, minute_of_day=0,
                               timezone="UTC", created_by="U_ALICE",
                               next_run_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    won = two_clocks(database_url, lambda database: claim_due_digests(database, utcnow()))
    assert sum(won) == len(teams)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == len(teams)
        posts = session.scalars(select(OutboxMessage.team_id)
                                .where(OutboxMessage.action == "post_digest")).all()
    assert sorted(posts) == teams


BERLIN_SUNDAY_0900 = "digest here weekly sun 09:00 Europe/Berlin"


@pytest.mark.parametrize(("today", "first", "second"), [
    # Spring forward on Sunday 29 March 2026: 09:00 is CET the week before, CEST after.
    ("2026-03-23 12:00", datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
     datetime(2026, 4, 5, 7, 0, tzinfo=UTC)),
    # Fall back on Sunday 25 October 2026.
    ("2026-10-19 12:00", datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
     datetime(2026, 11, 1, 8, 0, tzinfo=UTC)),
])
def test_the_weekly_time_is_local_across_dst(bot, fake_slack, db, today, first, second):
    with freeze_time(today):
        bot.slack.command(BERLIN_SUNDAY_0900)
    assert stored(db).next_run_at == first
    with freeze_time(first - timedelta(seconds=30)):
        assert post_due_digests(bot.runtime) == 0
    with freeze_time(first + timedelta(seconds=30)):
        assert post_due_digests(bot.runtime) == 1
    assert stored(db).next_run_at == second
    with freeze_time(second + timedelta(seconds=30)):
        assert post_due_digests(bot.runtime) == 1
    fake_slack.wait_for("chat.postMessage", 2)


def test_times_in_the_dst_gap_and_overlap():
    berlin = "Europe/Berlin"
    # 02:30 does not exist on 29 March 2026: the first minute after the gap, 03:00 CEST.
    assert digest.next_occurrence(6, 150, berlin, datetime(2026, 3, 28, tzinfo=UTC)) == \
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    # 02:30 happens twice on 25 October 2026: once, the first time (CEST).
    once = digest.next_occurrence(6, 150, berlin, datetime(2026, 10, 24, tzinfo=UTC))
    assert once == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert digest.next_occurrence(6, 150, berlin, once) == \
        datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


def test_a_digest_that_cannot_be_posted_is_reported_to_whoever_scheduled_it(bot, fake_slack,
                                                                            db):
    bot.slack.command("digest <#G_PRIVATE> weekly mon 09:00", user="U_ALICE")
    due_now(db)
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    post_due_digests(bot.runtime)
    posts = fake_slack.wait_for("chat.postMessage", 2)
    assert posts[0].body["channel"] == "G_PRIVATE" and not posts[0].ok
    assert posts[1].body["channel"] == "U_ALICE"
    assert "could not post this week's organisation digest" in posts[1].body["text"]
