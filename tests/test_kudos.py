"""/debrief kudos: applause received and given in a channel, and the team's part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import func, select

from bot.db.models import Applause, ChannelSettings, Entry
from tests.kit.fake_slack import TEAM_ID
from tests.kit.slack_requests import reaction

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
_ts = iter(range(1, 10_000))


def entry(db, author, *, channel="C_TEAM", anonymous=False, visibility="team", days_ago=0):
    with db.session() as session:
        row = Entry(team_id=TEAM_ID, channel_id=channel, author_id=author, kind="win",
                    text=f"win by {author}", visibility=visibility, anonymous=anonymous,
                    created_at=NOW - timedelta(days=days_ago), message_channel_id=channel,
                    message_ts=f"1700{next(_ts):06d}.000100")
        session.add(row)
        session.commit()
        return row


def applaud(bot, row, user, emoji="tada"):
    event = reaction("reaction_added", user=user, channel=row.message_channel_id,
                     ts=row.message_ts, emoji=emoji)
    assert bot.slack.event(event).status == 200


def age_applause(db, days):
    with db.session() as session:
        for row in session.scalars(select(Applause)):
            row.created_at = NOW - timedelta(days=days)
        session.commit()


def kudos(bot, args="", user="U_ALICE", channel="C_TEAM") -> str:
    answer = bot.slack.command(f"kudos {args}".strip(), user=user, channel=channel)
    assert answer.status == 200
    return answer.text


@freeze_time(NOW)
def test_kudos_shows_received_given_and_the_team_without_a_ranking(bot, db):
    alice, bob = entry(db, "U_ALICE"), entry(db, "U_BOB")
    applaud(bot, alice, "U_BOB")
    applaud(bot, alice, "U_CAROL", emoji="clap")
    applaud(bot, bob, "U_ALICE")
    text = kudos(bot)
    assert "the last 7 days" in text
    assert "You received *2* applause" in text and "gave *1*" in text
    assert ":tada: 1" in text and ":clap: 1" in text
    assert "*2* people shared learnings" in text
    assert "*2* people were applauded" in text
    assert "<@U_BOB>" not in text  # no per-person league table by default


@freeze_time(NOW)
def test_a_channel_that_turns_the_leaderboard_on_gets_a_ranking(bot, db):
    with db.session() as session:
        session.add(ChannelSettings(team_id=TEAM_ID, channel_id="C_TEAM", leaderboard=True))
        session.commit()
    alice, bob = entry(db, "U_ALICE"), entry(db, "U_BOB")
    for user in ("U_BOB", "U_CAROL", "U_DAN"):
        applaud(bot, alice, user)
    applaud(bot, bob, "U_CAROL")
    text = kudos(bot, user="U_CAROL")
    assert "1. <@U_ALICE> — 3" in text
    assert "2. <@U_BOB> — 1" in text


@freeze_time(NOW)
def test_anonymous_applause_is_visible_to_its_author_alone(bot, db):
    with db.session() as session:
        session.add(ChannelSettings(team_id=TEAM_ID, channel_id="C_TEAM", leaderboard=True))
        session.commit()
    secret = entry(db, "U_ALICE", anonymous=True)
    applaud(bot, secret, "U_BOB")
    applaud(bot, secret, "U_CAROL")

    assert "You received *2* applause" in kudos(bot, user="U_ALICE")
    others = kudos(bot, user="U_BOB")
    assert "U_ALICE" not in others
    assert "*0* people were applauded" in others
    assert "*0* people shared learnings, plus *1* anonymous entry" in others
    assert "No applause to rank yet." in others


@freeze_time(NOW)
def test_the_period_is_week_by_default_and_month_and_all_reach_further(bot, db):
    alice = entry(db, "U_ALICE", days_ago=60)
    applaud(bot, alice, "U_BOB")
    age_applause(db, 20)
    applaud(bot, alice, "U_CAROL")
    age_applause(db, 45)  # both now 45 days old
    recent = entry(db, "U_ALICE")
    applaud(bot, recent, "U_DAN")  # today
    assert "You received *1* applause" in kudos(bot)
    assert "You received *1* applause" in kudos(bot, "week")
    assert "the last 30 days" in kudos(bot, "month")
    assert "You received *3* applause" in kudos(bot, "ALL")
    assert "all time" in kudos(bot, "all")


@freeze_time(NOW)
def test_kudos_count_only_this_channel(bot, db):
    here, there = entry(db, "U_ALICE"), entry(db, "U_ALICE", channel="C_ELSEWHERE")
    applaud(bot, here, "U_BOB")
    applaud(bot, there, "U_BOB")
    assert "You received *1* applause" in kudos(bot)


def test_a_bad_period_is_a_clear_error_and_changes_nothing(bot, db):
    text = kudos(bot, "fortnight")
    assert text.startswith(":warning:")
    assert "`week`, `month` or `all`" in text and "fortnight" in text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Applause)) == 0


def test_kudos_is_in_help(bot):
    assert "/debrief kudos [week|month|all]" in bot.slack.command("help").text
