"""Time limits everywhere a request waits: a request that cannot get the database in time
answers well inside Slack's 3 seconds with the person's text handed back, and the outbox
never talks to Slack while it holds a connection (on SQLite: the writer lock)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text

from bot.clock import post_due_digests, send_rotation_reminders
from bot.db import Database
from bot.db.models import Entry, OutboxMessage, OutboxStatus
from bot.services import cards
from tests.kit.fake_slack import Call
from tests.test_digest import due_now
from tests.test_rotation_reminders import rotation_due

WORDS = "lesson the words nobody may lose when the database is busy"


def pending(db) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING)))


@contextmanager
def database_held(database_url: str, how: str) -> Iterator[None]:
    """Something else holds the database for longer than any request may wait."""
    if database_url.startswith("sqlite"):
        if how == "our other process":  # another process of the bot, in a transaction
            other = Database(database_url)
            with other.session() as busy:
                busy.execute(select(Entry.id))  # BEGIN IMMEDIATE, behind the writer lock
                yield
            other.dispose()
        else:  # a sqlite3 shell, a backup: it knows nothing of our writer lock
            shell = sqlite3.connect(database_url.removeprefix("sqlite:///"),
                                    isolation_level=None)
            shell.execute("BEGIN IMMEDIATE")
            yield
            shell.execute("ROLLBACK")
            shell.close()
        return
    engine = create_engine(database_url)
    with engine.connect() as connection:
        if how == "our other process":  # a transaction that holds the table's lock
            connection.execute(text("LOCK TABLE entries IN ACCESS EXCLUSIVE MODE"))
        else:  # a long migration, a vacuum full
            connection.execute(text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))
        yield
        connection.rollback()
    engine.dispose()


@pytest.mark.parametrize("how", ["our other process", "something else"])
def test_a_request_that_cannot_get_the_database_hands_the_text_back_in_time(
        bot, fake_slack, db, database_url, how):
    with database_held(database_url, how):
        started = time.monotonic()
        answer = bot.slack.command(WORDS)
        took = time.monotonic() - started
    assert answer.status == 200
    assert took < 3.0, f"answered after {took:.1f} s"
    assert "not saved" in answer.text
    assert "the words nobody may lose when the database is busy" in answer.text
    with db.session() as session:
        assert session.scalars(select(Entry)).all() == []  # and nothing half-stored
    assert "Saved your lesson" in bot.slack.command(WORDS).text  # free again: it works


def test_postgres_limits_keep_what_the_url_says():
    from bot.db import postgres_limits

    url = "postgresql+psycopg://u@h/db?options=-csearch_path%3Dmine"
    assert postgres_limits(url, 2000) == {
        "options": "-csearch_path=mine -c statement_timeout=2000", "connect_timeout": 2}
    own = "postgresql+psycopg://u@h/db?options=-c%20statement_timeout%3D9&connect_timeout=5"
    assert postgres_limits(own, 2000) == {"options": "-c statement_timeout=9"}


def test_the_outbox_never_calls_slack_holding_a_connection(bot, fake_slack, db, monkeypatch):
    """Every sender closes its session before it talks to Slack: on SQLite an open one
    holds the writer lock, on PostgreSQL its row locks, while Slack takes its time."""
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0))
    fake_slack.users.update({u: {"id": u, "deleted": u == "U_ANA", "tz": "Europe/Berlin",
                                 "profile": {"display_name": u.lower()}}
                             for u in ("U_ANA", "U_BEN", "U_CAM", "U_ALICE")})
    fake_slack.memberships["U_ALICE"] = ["C_TEAM"]
    writer = bot.runtime.db._writer
    held: list[tuple[str, int, bool]] = []

    def look(call: Call) -> None:  # while the outbox waits for this call's answer
        held.append((call.method, bot.runtime.db.engine.pool.checkedout(),
                     writer is not None and writer._threads.locked()))

    fake_slack.observe(look)

    def outbox_alone(*commands: str) -> None:
        """The commands first, then the outbox alone sends what they queued."""
        bot.runtime.worker.stop()
        for command in commands:
            assert bot.slack.command(command).status == 200
        bot.runtime.worker.start()
        fake_slack.wait_until(lambda: not pending(db), timeout=20, what="the outbox empty")
        bot.settle()

    outbox_alone("lesson pin your versions", "card The launch",
                 "digest here weekly mon 09:00", "export")
    bot.slack.event({"type": "app_home_opened", "user": "U_ALICE", "channel": "D1",
                     "tab": "home", "event_ts": "1700000000.000100"})
    bot.settle()
    bot.runtime.worker.stop()
    rotation_due(db)
    send_rotation_reminders(bot.runtime)
    due_now(db)
    post_due_digests(bot.runtime)
    outbox_alone("lesson on the card, then gone", "close 1", "delete 1",
                 "rotation schedule mon 09:30")  # the time zone is asked of Slack

    called = {method for method, _, _ in held}
    assert {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete",
            "users.info", "users.conversations", "views.publish",
            "files.getUploadURLExternal", "files.completeUploadExternal"} <= called
    assert [h for h in held if h[1] or h[2]] == []


def test_a_clock_job_that_finds_the_database_busy_warns_and_the_next_tick_does_it(
        bot, db, database_url, caplog):
    """A scheduled job behind a long write (another process's transaction) gives up
    with a warning, never a traceback in the operator's log; the next tick does the work."""
    from datetime import timedelta

    from bot.clock import build_scheduler
    from bot.db.models import ProcessedEvent, utcnow

    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL: a clock statement waits longer than a test should hold a lock")
    with db.session() as session:
        session.add(ProcessedEvent(team_id="T0001", event_id="Ev_OLD",
                                   received_at=utcnow() - timedelta(days=2)))
        session.commit()
    scheduler = build_scheduler(bot.runtime, blocking=False)
    job = scheduler.get_job("forget_old_events")
    with caplog.at_level("WARNING"), database_held(database_url, "our other process"):
        assert job.func(*job.args) is None
    [warned] = [r for r in caplog.records if "forget_old_events" in r.getMessage()]
    assert warned.levelname == "WARNING" and warned.exc_info is None
    assert "the next tick does it" in warned.getMessage()
    with db.session() as session:
        assert session.get(ProcessedEvent, ("T0001", "Ev_OLD")) is not None  # not yet
    assert job.func(*job.args) == 1  # the next tick
    with db.session() as session:
        assert session.get(ProcessedEvent, ("T0001", "Ev_OLD")) is None
