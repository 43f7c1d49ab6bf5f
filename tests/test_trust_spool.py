"""Events that arrive while the database cannot take them are kept and applied when it is
back: not lost once Slack's retries are over, and applied once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Applause
from tests.kit.slack_requests import reaction
from tests.test_applause import posted_entry


def test_a_reaction_during_an_outage_is_applied_once_when_the_database_is_back(
        bot, fake_slack, db):
    if db.dialect != "sqlite":
        pytest.skip("the outage is made by holding SQLite's writer lock")
    entry = posted_entry(bot, fake_slack, db)
    if hasattr(bot.runtime, "spool"):  # (no spool before this rule)
        bot.runtime.spool.stop()  # replayed below, by hand, at a known moment
    event = reaction("reaction_added", user="U_BOB", channel=entry.message_channel_id,
                     ts=entry.message_ts)
    writer = bot.runtime.db._writer
    writer.acquire()  # the database takes no write: every request gives up after 2 s
    try:
        # The first delivery and Slack's three retries all fail to reach the database.
        answers = [bot.slack.event(event, event_id="EvOUTAGE1", retry_num=n or None)
                   for n in range(4)]
    finally:
        writer.release()
    assert [a.status for a in answers] == [200] * 4  # kept: Slack need not retry
    assert applause(db) == []
    assert len(bot.runtime.spool.waiting()) == 1  # one event, however many deliveries

    assert bot.runtime.spool.replay() == 1
    assert [(a.reactor_id, a.entry_id) for a in applause(db)] == [("U_BOB", entry.id)]
    assert bot.runtime.spool.waiting() == []
    assert bot.runtime.spool.replay() == 0
    # A late copy from Slack changes nothing either.
    assert bot.slack.event(event, event_id="EvOUTAGE1", retry_num=3).status == 200
    assert len(applause(db)) == 1


def test_a_replay_while_the_database_is_still_down_keeps_the_event(bot, fake_slack, db):
    if db.dialect != "sqlite":
        pytest.skip("the outage is made by holding SQLite's writer lock")
    entry = posted_entry(bot, fake_slack, db)
    bot.runtime.spool.stop()
    event = reaction("reaction_added", user="U_BOB", channel=entry.message_channel_id,
                     ts=entry.message_ts)
    writer = bot.runtime.db._writer
    writer.acquire()
    try:
        assert bot.slack.event(event, event_id="EvOUTAGE2").status == 200
        assert bot.runtime.spool.replay() == 0  # still down: it stays
        assert len(bot.runtime.spool.waiting()) == 1
    finally:
        writer.release()
    assert bot.runtime.spool.replay() == 1
    assert len(applause(db)) == 1


def applause(db) -> list[Applause]:
    with db.session() as session:
        return list(session.scalars(select(Applause)))
