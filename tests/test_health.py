"""See how the team learns: the 12-week picture (a PNG through files_upload_v2, its figures
in words), the safety signals (aggregate, at least five people, never per person), the
weekly post (opt-in, once across clocks) and the organisation digest's picture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from bot.clock import claim_due_health_posts, post_due_digests
from bot.db.models import CheckBack, Digest, Entry, HealthPost, OutboxMessage, utcnow
from bot.services import health
from bot.views.health import figures_text, render_png
from tests.kit.clocks import two_clocks

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def add(session, n: int, *, kind="win", author="U1", channel="C_TEAM", weeks_ago=0,
        anonymous=False, visibility="team", team="T0001") -> list[Entry]:
    made = []
    for i in range(n):
        entry = Entry(team_id=team, channel_id=channel, author_id=author, kind=kind,
                      text=f"{kind} {i}", visibility=visibility, anonymous=anonymous,
                      source="command", tags="",
                      created_at=NOW - timedelta(days=7 * weeks_ago + 1, minutes=i))
        session.add(entry)
        made.append(entry)
    session.flush()
    return made


def test_the_picture_counts_only_what_the_channel_shows(db):
    with db.session() as session:
        add(session, 3, kind="win", author="U1")
        add(session, 2, kind="opportunity", author="U2")
        [lesson] = add(session, 1, kind="lesson", author="U3")
        [opportunity] = add(session, 1, kind="opportunity", author="U3", weeks_ago=2)
        session.add(CheckBack(team_id="T0001", user_id="U3", entry_id=opportunity.id,
                              plan="after", status="learned", lesson_id=lesson.id,
                              learned_at=lesson.created_at, times_asked=1, created_at=NOW))
        add(session, 1, kind="lesson", author="U9", anonymous=True)
        add(session, 4, kind="lesson", author="U1", visibility="private")  # never counted
        add(session, 5, kind="win", author="U7", channel="C_ELSEWHERE", visibility="org")
        add(session, 5, kind="win", author="U7", team="T0002")
        add(session, 2, kind="win", author="U1", weeks_ago=13)  # before the window
        session.commit()
        picture = health.picture(session, "T0001", "C_TEAM", NOW)
        workspace = health.picture(session, "T0001", None, NOW)
    latest = picture.weeks[-1]
    assert len(picture.weeks) == 12
    assert (latest.wins, latest.opportunities, latest.lessons) == (3, 2, 2)
    assert latest.anonymous == 1 and latest.people == 3  # the anonymous author is not a person
    assert latest.became_lessons == 1
    assert picture.weeks[-3].opportunities == 1
    assert sum(w.entries for w in picture.weeks) == 8
    # The workspace's (the organisation digest's): org-visible entries alone.
    assert sum(w.entries for w in workspace.weeks) == 5 and workspace.teams_recent == 1


def test_signals_need_five_people_behind_them(db):
    with db.session() as session:
        for n in range(4):
            add(session, 2, kind="lesson", author=f"U{n}")
        session.commit()
        picture = health.picture(session, "T0001", "C_TEAM", NOW)
    assert [s.shown for s in picture.signals] == [False, False, False]
    text = figures_text(picture)
    assert "not shown — fewer than 5 people shared by name" in text


@pytest.mark.parametrize(("recent", "earlier", "shown", "trend"), [
    (4, 5, False, False),  # four people lately: nothing, whatever came before
    (5, 4, True, False),   # five lately, four before: the current figures, no trend
    (5, 5, True, True),    # five in both periods: figures and trends
])
def test_five_people_behind_a_figure_and_both_periods_behind_a_trend(
        db, recent, earlier, shown, trend):
    with db.session() as session:
        for n in range(earlier):
            add(session, 2, kind="win", author=f"U_OLD{n}", weeks_ago=6)
        for n in range(recent):
            add(session, 1, kind="lesson", author=f"U_NEW{n}", weeks_ago=1)
        session.commit()
        picture = health.picture(session, "T0001", "C_TEAM", NOW)
    assert [s.shown for s in picture.signals] == [shown] * 3
    for signal in picture.signals:
        assert (signal.now is not None) is shown
        assert (signal.before is not None) is trend and (signal.trend is not None) is trend
    text = figures_text(picture)
    assert ("fewer than 5 people shared by name" in text) is not shown
    people = {s.name: s for s in picture.signals}["people"]
    if shown:
        assert people.now == recent
    assert "U_OLD" not in text and "U_NEW" not in text


def test_a_private_channels_team_entries_never_move_the_organisation_picture(db):
    with db.session() as session:
        for n in range(6):
            add(session, 1, kind="win", author=f"U{n}", channel="C_OPEN", visibility="org")
            add(session, 1, kind="lesson", author=f"U{n}", channel="C_OPEN", visibility="org",
                weeks_ago=5)
        session.commit()
        before = health.picture(session, "T0001", None, NOW)
        # A private channel's team, busy: team entries, anonymous ones, new people, a
        # lesson that followed an opportunity.
        for n in range(6):
            add(session, 2, kind="opportunity", author=f"U_SECRET{n}", channel="C_SECRET")
        add(session, 3, kind="lesson", author="U_SECRET0", channel="C_SECRET", anonymous=True)
        [lesson] = add(session, 1, kind="lesson", author="U0", channel="C_SECRET")
        [opportunity] = add(session, 1, kind="opportunity", author="U0", channel="C_SECRET",
                            weeks_ago=2)
        session.add(CheckBack(team_id="T0001", user_id="U0", entry_id=opportunity.id,
                              plan="after", status="learned", lesson_id=lesson.id,
                              learned_at=lesson.created_at, times_asked=1, created_at=NOW))
        session.commit()
        after = health.picture(session, "T0001", None, NOW)
        channel = health.picture(session, "T0001", "C_SECRET", NOW)
    assert after.weeks == before.weeks and after.signals == before.signals
    assert (after.people_recent, after.teams_recent) == (before.people_recent, 1)
    assert figures_text(after) == figures_text(before)
    assert sum(w.entries for w in channel.weeks) == 17  # its own picture shows them


def test_anonymous_sharing_rising_fast_is_worth_a_conversation(db):
    with db.session() as session:
        for n in range(6):  # six people, named, in the weeks before
            add(session, 2, kind="win", author=f"U{n}", weeks_ago=6)
            add(session, 1, kind="lesson", author=f"U{n}", weeks_ago=1)  # and lately
        add(session, 10, kind="opportunity", author="U0", anonymous=True)
        session.commit()
        picture = health.picture(session, "T0001", "C_TEAM", NOW)
    signals = {s.name: s for s in picture.signals}
    assert signals["anonymous"].shown and signals["anonymous"].trend == "up"
    assert signals["anonymous"].moved_a_lot
    assert signals["learning"].trend == "up"
    assert signals["people"].now == 6 and signals["people"].before == 6
    text = figures_text(picture)
    assert "Anonymous sharing is rising fast" in text
    assert "U0" not in text and "U1" not in text  # never a person


def test_the_chart_is_a_png(db):
    with db.session() as session:
        add(session, 3, kind="win")
        picture = health.picture(session, "T0001", "C_TEAM", NOW)
    png = render_png(picture)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_debrief_health_shares_the_picture_in_the_channel(bot, fake_slack, db):
    bot.slack.command("win shipped the beta")
    answer = bot.slack.command("health")
    assert "Sharing this channel's last 12 weeks here" in answer.text
    fake_slack.wait_for("files.completeUploadExternal")
    bot.settle()
    [upload] = fake_slack.uploaded()
    assert upload["channel_id"] == "C_TEAM" and upload["content"].startswith(b"\x89PNG")
    assert upload["filename"].startswith("learning-health-") and upload["title"] == \
        "How this channel learns: the last 12 weeks"
    assert "*Week by week*" in upload["initial_comment"]
    assert ":trophy: 1" in upload["initial_comment"]
    assert "U_ALICE" not in upload["initial_comment"]
    [complete] = fake_slack.calls_to("files.getUploadURLExternal")
    assert "Bar chart" in complete.body.get("alt_txt", "")


def test_a_channel_opts_in_to_a_weekly_picture_posted_once(bot, fake_slack, db, database_url):
    with freeze_time("2026-11-25 12:00"):
        answer = bot.slack.command("health weekly mon 09:00 Europe/Berlin")
    assert "Every Monday at 09:00 (Europe/Berlin)" in answer.text
    with db.session() as session:
        post = session.scalar(select(HealthPost))
    assert post.next_run_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with db.session() as session:
        session.execute(update(HealthPost).values(next_run_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    won = two_clocks(database_url, lambda database: claim_due_health_posts(database, utcnow()))
    assert sorted(won) == [0, 1]
    with db.session() as session:
        queued = session.scalars(select(OutboxMessage).where(
            OutboxMessage.action == "upload_health")).all()
    assert [(q.channel_id, q.payload["scope"]) for q in queued] == [("C_TEAM", "channel")]
    assert "stopped" in bot.slack.command("health off").text
    assert "no weekly picture" in bot.slack.command("health off").text


def test_bad_weekly_times_change_nothing(bot, db):
    for args in ("weekly someday 09:00", "weekly mon 9am", "weekly mon 09:00 Mars/Base"):
        assert ":warning:" in bot.slack.command(f"health {args}").text
    with db.session() as session:
        assert session.scalars(select(HealthPost)).all() == []


def test_the_organisation_digest_gains_the_picture_across_teams(bot, fake_slack, db):
    bot.slack.command("win shipped", channel="C_ONE")
    fake_slack.users["U_ALICE"] = {"id": "U_ALICE", "name": "alice", "is_admin": True}
    bot.slack.command("digest here weekly mon 09:00", channel="C_LEARN")  # an admin's to set
    with db.session() as session:
        session.execute(update(Digest).values(next_run_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    assert post_due_digests(bot.runtime) == 1
    fake_slack.wait_for("files.completeUploadExternal")
    bot.settle()
    [upload] = fake_slack.uploaded()
    assert upload["channel_id"] == "C_LEARN"
    assert upload["title"] == "How the organisation learns: the last 12 weeks"
    assert "channels shared in the last 4 weeks" in upload["initial_comment"]
