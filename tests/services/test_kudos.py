"""Kudos (PRODUCT.md §2, §6): applause received and given in a channel, the team's
participation, and no per-person league table unless the channel turns it on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from bot.db.models import Kind, Visibility
from bot.services import kudos, settings
from bot.services.errors import UserError
from tests.services.kit import CH, CH2, OTHER_WS, WS, log, posted, react, unit

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def kudos_of(db, user: str, period: str = "week", channel: str = CH,
             team: str = WS) -> kudos.Kudos:
    with unit(db) as session:
        return kudos.kudos(session, team, channel, user, period, now=NOW)


def entry_ts(db, author: str, *, channel: str = CH, **kwargs) -> str:
    return posted(db, log(db, author, f"Win by {author}", kind=Kind.WIN, channel=channel,
                          **kwargs))


def test_the_caller_sees_applause_received_and_given_in_this_channel(db):
    with freeze_time(NOW - timedelta(days=1)):
        anas, bens = entry_ts(db, "U_ANA"), entry_ts(db, "U_BEN")
        react(db, "U_BEN", anas, "tada")
        react(db, "U_CAM", anas, "clap")
        react(db, "U_ANA", bens, "tada")
        elsewhere = entry_ts(db, "U_ANA", channel=CH2)
        react(db, "U_BEN", elsewhere, channel=CH2)
    mine = kudos_of(db, "U_ANA")
    assert (mine.received, mine.given) == (2, 1)
    assert sorted(mine.received_by_emoji) == [("clap", 1), ("tada", 1)]
    assert kudos_of(db, "U_ANA", channel=CH2).received == 1
    assert kudos_of(db, "U_ANA", team=OTHER_WS).received == 0


def test_the_period_is_the_last_week_the_last_month_or_all_time(db):
    for days_ago in (2, 20, 200):
        with freeze_time(NOW - timedelta(days=days_ago)):
            react(db, "U_BEN", entry_ts(db, "U_ANA"))
    assert [kudos_of(db, "U_ANA", p).received for p in ("week", "month", "all")] == [1, 2, 3]
    assert kudos.parse_period("") == "week"
    with pytest.raises(UserError):
        kudos.parse_period("year")


def test_the_team_view_counts_people_who_shared_not_private_entries(db):
    with freeze_time(NOW - timedelta(days=1)):
        log(db, "U_ANA", "one")
        log(db, "U_ANA", "two")
        log(db, "U_BEN", "three", visibility=Visibility.ORG)
        log(db, "U_CAM", "private", visibility=Visibility.PRIVATE)
        log(db, "U_DAN", "anonymous", anonymous=True)
        log(db, "U_EVE", "in another channel", channel=CH2)
    team = kudos_of(db, "U_ZED")
    assert (team.sharers, team.anonymous_entries) == (2, 1)


def test_no_per_person_ranking_unless_the_channel_turns_it_on(db):
    with freeze_time(NOW - timedelta(days=1)):
        react(db, "U_BEN", entry_ts(db, "U_ANA"))
    assert kudos_of(db, "U_ZED").ranking is None
    with unit(db) as session:
        settings.save(session, WS, CH2, "U_ADMIN", applause_emoji=None, leaderboard=True)
    assert kudos_of(db, "U_ZED").ranking is None  # another channel turned it on
    with unit(db) as session:
        settings.save(session, WS, CH, "U_ADMIN", applause_emoji=None, leaderboard=True)
    assert kudos_of(db, "U_ZED").ranking == [("U_ANA", 1)]


def test_a_turned_on_ranking_shows_applause_not_how_many_lessons_someone_shared(db):
    with unit(db) as session:
        settings.save(session, WS, CH, "U_ADMIN", applause_emoji=None, leaderboard=True)
    with freeze_time(NOW - timedelta(days=1)):
        for n in range(4):
            log(db, "U_ANA", f"lesson {n}")
        bens = entry_ts(db, "U_BEN")
        react(db, "U_CAM", bens)
        react(db, "U_DAN", bens)
    ranking = kudos_of(db, "U_ZED").ranking
    assert ranking is not None and ranking[0] == ("U_BEN", 2)
    assert dict(ranking).get("U_ANA", 0) == 0


def test_applause_on_an_anonymous_entry_is_seen_by_its_author_alone(db):
    with unit(db) as session:
        settings.save(session, WS, CH, "U_ADMIN", applause_emoji=None, leaderboard=True)
    with freeze_time(NOW - timedelta(days=1)):
        react(db, "U_BEN", entry_ts(db, "U_ANA", anonymous=True))
    assert kudos_of(db, "U_ANA").received == 1
    others = kudos_of(db, "U_ZED")
    assert others.applauded_people == 0 and others.sharers == 0
    assert "U_ANA" not in dict(others.ranking or [])
