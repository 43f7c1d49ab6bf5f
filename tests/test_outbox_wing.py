"""The outbox wing's own rules: settling waits for real."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Entry


def test_settle_waits_until_the_post_is_recorded_and_fails_loudly_when_it_is_not(
        bot, fake_slack, db):
    gate = fake_slack.hold("chat.postMessage")  # Slack does not answer
    bot.slack.command("win held up")
    with pytest.raises(TimeoutError):
        bot.settle(timeout=0.5)
    gate.set()
    bot.settle()
    with db.session() as session:
        assert session.scalars(select(Entry.message_ts)).one() is not None


def test_settle_needs_a_running_worker(bot):
    bot.runtime.worker.stop()  # the one thing this test is about
    with pytest.raises(RuntimeError, match="not running"):
        bot.settle()
