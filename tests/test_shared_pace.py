"""One pace for every process (PRODUCT.md §8): on PostgreSQL the pace of Slack calls is
kept in the database, so a channel gets about one post a second however many processes
send, and each row is sent once; unrelated channels never wait for each other. SQLite
keeps its pace in its one process."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bot.db import Database, pace
from bot.db.models import OutboxMessage, OutboxStatus, PaceSlot
from bot.ids import OutboxAction
from bot.outbox.pacing import TIER_3, ChannelPacer, SharedPacer
from bot.services import outbox
from tests.kit.processes import Process


def only_postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the shared pace is PostgreSQL's; SQLite paces in its one process")


def test_the_pace_is_shared_on_postgresql_and_kept_in_process_on_sqlite(bot, db, fake_slack):
    shared = db.dialect == "postgresql"
    assert db.shares_pace is shared
    pacer = bot.runtime.worker.delivery.pacer
    assert isinstance(pacer, SharedPacer if shared else ChannelPacer)
    bot.slack.command("win paced")
    fake_slack.wait_for("chat.postMessage")
    bot.settle()
    with db.session() as session:
        keys = list(session.scalars(select(PaceSlot.key)))
    assert keys == (["C_TEAM"] if shared else [])


def test_a_channel_gets_its_burst_then_one_a_second_by_the_databases_clock(database_url, db):
    only_postgres(database_url)
    with db.session() as session:
        takes = [pace.take(session, "C1", interval=1.0, tolerance=2.0, now=100.0)
                 for _ in range(5)]
        assert [t.taken for t in takes] == [True, True, True, False, False]
        assert takes[3].wait == pytest.approx(1.0)
        assert pace.take(session, "C2", interval=1.0, tolerance=2.0, now=100.0).taken
        assert pace.busy(session, tolerance=2.0, now=100.0) == {"C1": pytest.approx(1.0)}
        assert [pace.take(session, "C1", interval=1.0, tolerance=2.0, now=101.0).taken
                for _ in range(2)] == [True, False]
        assert pace.busy(session, tolerance=2.0, now=120.0) == {}  # quiet: free again
        assert pace.forget_idle(session, idle=60.0, now=1000.0) == 2  # idle keys go
        session.commit()


def test_unrelated_channels_never_wait_for_each_other(database_url, db):
    """One process holds C1's row (its claim's transaction is open); another takes a
    slot in C2 at once, and only a slot in C1 waits."""
    only_postgres(database_url)
    other = Database(database_url)
    try:
        with db.session() as first, other.session() as second:
            assert pace.take(first, "C1", interval=1.0, tolerance=2.0).taken  # not committed
            second.execute(text("SET LOCAL lock_timeout = '300ms'"))
            assert pace.take(second, "C2", interval=1.0, tolerance=2.0).taken
            second.commit()
            second.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(Exception, match="lock timeout"):
                pace.take(second, "C1", interval=1.0, tolerance=2.0)
            second.rollback()
            first.commit()
    finally:
        other.dispose()


def test_a_workspaces_method_limit_puts_rows_off_without_using_attempts(bot, db, fake_slack):
    """App Home publishes (users.conversations is Tier 3) beyond the workspace's burst
    wait for the method's pace, in the database, as failures would not."""
    pacer = bot.runtime.worker.delivery.pacer
    pacer.clock = lambda: 1000.0  # frozen: no slot frees meanwhile
    with db.session() as session:
        for n in range(TIER_3.burst + 4):
            outbox.enqueue(session, team_id="T0001", action=OutboxAction.PUBLISH_HOME,
                           channel_id=f"U{n:03d}", user_id=f"U{n:03d}")
        session.commit()
    bot.settle()
    assert len(fake_slack.succeeded("views.publish")) == TIER_3.burst
    with db.session() as session:
        waiting = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING)))
    assert len(waiting) == 4
    assert all(row.attempts == 0 and row.claimed_until is None for row in waiting)
    assert all(row.next_attempt_at > row.created_at for row in waiting)


def post_times(fake_slack, channel: str) -> list[float]:
    return [call.at for call in fake_slack.succeeded("chat.postMessage")
            if call.body.get("channel") == channel]


def test_two_processes_bursting_into_one_channel_keep_one_pace(database_url, fake_slack,
                                                               tmp_path):
    """Two `python -m bot` on one PostgreSQL, a burst into one channel through both: each
    entry posted once, and the channel gets its burst of 3, then one a second."""
    only_postgres(database_url)
    bots = [Process("bot", database_url, fake_slack.url, tmp_path).start()
            for _ in range(2)]
    count = 12
    try:
        for n in range(count):
            answer = bots[n % 2].slack.command(f"win burst from both {n}", channel="C_ONE")
            assert "Saved your win" in answer.text
        fake_slack.wait_until(lambda: len(post_times(fake_slack, "C_ONE")) >= count,
                              timeout=40, what="every post")
        for process in bots:
            assert process.stop()[0] == 0
    finally:
        for process in bots:
            process.kill()
    texts = [call.body["text"] for call in fake_slack.succeeded("chat.postMessage")]
    assert sorted(sum(t.endswith(f"burst from both {n}") for t in texts)
                  for n in range(count)) == [1] * count
    times = post_times(fake_slack, "C_ONE")
    # GCRA with a burst of 3 at one a second: any 4 posts in a row span at least a second
    # (less a little for the way from a claim to Slack); 12 posts take 9 s at least.
    spans = [later - earlier for earlier, later in zip(times, times[3:], strict=False)]
    assert min(spans) > 0.85, spans
    assert times[-1] - times[0] > 8.5
