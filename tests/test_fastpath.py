"""The hot paths' writes (bot/db/fastpath.py) against the real databases: one chain of
statements, run without the session as one transaction (one statement on PostgreSQL), or
inside the unit of work's transaction when it has one."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import create_engine, event, insert, null, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

import bot.db
from bot.db import Database, DatabaseBusy, fastpath
from bot.db.models import Entry, OutboxMessage, ProcessedEvent, StoredEntry
from bot.ids import OutboxAction
from bot.services import entries
from bot.services.entries import NewEntry


def log(db: Database, text_: str = "win shipped it #release",
        kind: entries.Kind = entries.Kind.WIN) -> StoredEntry:
    """As a slash command's unit of work does it: log, then commit what is open."""
    with db.session() as session:
        entry = entries.log_entry(session, NewEntry(
            team_id="T1", channel_id="C1", author_id="U1", kind=kind, text=text_))
        if session.in_transaction():
            session.commit()
        return entry


# The entry, then a statement that fails: the request dies mid-write.
FAILING = fastpath.Chain(
    fastpath.Step("entry", lambda _kit: entries._INSERT_ENTRY),
    # NOT NULL refused: an error from the database itself, after the entry was written.
    fastpath.Step("boom", lambda _kit: insert(ProcessedEvent).values(
        team_id=null(), event_id=null()).returning(ProcessedEvent.event_id)),
    result="entry")
ENTRY_VALUES = {"team_id": "T1", "channel_id": "C1", "author_id": "U1", "kind": "win",
                "text": "lost?", "visibility": "team", "anonymous": False,
                "source": "command", "tags": "", "card_id": None}


@freeze_time("2026-03-29 01:30:00.000123")
def test_an_entry_written_directly_reads_back_as_the_orm_wrote_it(db):
    entry = log(db)
    with db.session() as session:
        stored = session.get(Entry, entry.id)
        [call] = session.scalars(select(OutboxMessage)).all()
    assert stored.created_at == datetime(2026, 3, 29, 1, 30, 0, 123, tzinfo=UTC)
    assert (stored.text, stored.tags, stored.kind, stored.visibility, stored.anonymous) == \
        ("win shipped it #release", "release", "win", "team", False)
    assert (call.action, call.entry_id, call.status, call.attempts, call.user_id) == \
        (OutboxAction.POST_ENTRY, entry.id, "pending", 0, "U1")
    assert call.next_attempt_at == stored.created_at


def test_a_failed_write_rolls_back_and_frees_the_writer(db):
    with pytest.raises(DBAPIError), db.session() as session:
        fastpath.run(session, FAILING, {**ENTRY_VALUES, "created_at": datetime.now(UTC)})
    finished = threading.Event()
    threading.Thread(target=lambda: (log(db, "win the next one"), finished.set()),
                     daemon=True).start()
    assert finished.wait(10), "the writer lock was not released"
    with db.session() as session:
        assert session.scalars(select(Entry.text)).all() == ["win the next one"]


def test_a_pooled_connection_the_server_closed_while_idle_is_replaced(database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("only a server can close a connection")
    monkeypatch.setattr(bot.db, "PING_AFTER_IDLE", 0.0)
    db = Database(database_url)
    try:
        log(db, "win first")
        pooled = db.engine.raw_connection()
        pid = pooled.driver_connection.info.backend_pid
        pooled.close()  # back to the pool, idle
        admin = create_engine(database_url, poolclass=NullPool)
        with admin.connect() as connection:  # not from the bot's pool
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        log(db, "win after the server closed it")
        with db.session() as session:
            assert session.scalars(select(Entry.text).order_by(Entry.id)).all() == \
                ["win first", "win after the server closed it"]
    finally:
        db.dispose()


def test_a_write_on_a_lost_connection_fails_once_and_the_pool_recovers(database_url,
                                                                       monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("only a server can close a connection")
    monkeypatch.setattr(bot.db, "PING_AFTER_IDLE", 1e9)  # no check before use
    db = Database(database_url)
    try:
        log(db, "win first")
        pooled = db.engine.raw_connection()
        pid = pooled.driver_connection.info.backend_pid
        pooled.close()
        admin = create_engine(database_url, poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        with pytest.raises(OperationalError):  # the person's text is handed back
            log(db, "win on a dead connection")
        log(db, "win on a fresh one")  # the dead connection did not go back to the pool
        with db.session() as session:
            assert session.scalars(select(Entry.text).order_by(Entry.id)).all() == \
                ["win first", "win on a fresh one"]
    finally:
        db.dispose()


@freeze_time("2026-03-29 01:30:00.000123")
@pytest.mark.parametrize("kind", [entries.Kind.WIN, entries.Kind.LESSON])
def test_times_are_stored_in_utc_whatever_the_database_sessions_zone(database_url, kind):
    db = Database(database_url)
    if db.dialect == "postgresql":
        @event.listens_for(db.engine, "connect")
        def far_east(dbapi_connection, _record):
            dbapi_connection.execute("SET TIME ZONE 'Asia/Tokyo'")
            dbapi_connection.commit()
    try:
        with db.session() as session:
            entry = entries.log_entry(session, NewEntry(
                team_id="T1", channel_id="C1", author_id="U1", kind=kind, text="it #went"))
            if session.in_transaction():
                session.commit()
        with db.session() as session:
            stored = session.get(Entry, entry.id)
            calls = session.scalars(select(OutboxMessage)).all()
        moment = datetime(2026, 3, 29, 1, 30, 0, 123, tzinfo=UTC)
        assert stored.created_at == moment
        assert len(calls) == (1 if kind == entries.Kind.WIN else 2)  # + related lessons
        assert {(call.next_attempt_at, call.created_at) for call in calls} == {(moment, moment)}
    finally:
        db.dispose()


def test_a_chain_in_the_unit_of_work_rolls_back_with_it(db):
    """When the unit of work has begun, the chain joins its transaction: nothing of either
    is kept when the unit fails."""
    with pytest.raises(RuntimeError, match="the request died"), db.session() as session:
        session.add(Entry(**{**ENTRY_VALUES, "text": "written first",
                             "created_at": datetime.now(UTC)}))
        session.flush()
        log_id = fastpath.run(session, entries._entry_chain((OutboxAction.POST_ENTRY,)),
                              {**ENTRY_VALUES, "created_at": datetime.now(UTC)})
        assert log_id is not None and session.in_transaction()
        raise RuntimeError("the request died")
    with db.session() as session:
        assert session.scalars(select(Entry)).all() == []
        assert session.scalars(select(OutboxMessage)).all() == []


def test_after_a_fast_write_the_unit_of_work_begins_nothing_else(db):
    """A write after the chain committed on its own would not be atomic with it."""
    with db.session() as session:
        fastpath.run(session, entries._entry_chain((OutboxAction.POST_ENTRY,)),
                     {**ENTRY_VALUES, "created_at": datetime.now(UTC)})
        assert not session.in_transaction()
        with pytest.raises(RuntimeError, match="already committed"):
            session.execute(select(Entry.id))


def test_a_writer_that_cannot_get_the_sqlite_lock_gives_up_in_time(database_url):
    """A request never waits past the writer lock's timeout: it fails with DatabaseBusy
    (and the person's text is handed back by the app's error handler)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no writer lock")
    holder, waiter = Database(database_url), Database(database_url)
    try:
        waiter._writer.timeout = 0.3
        with holder.session() as busy:
            busy.execute(select(Entry.id))  # BEGIN IMMEDIATE: holds the writer lock
            started = time.monotonic()
            with pytest.raises(DatabaseBusy):
                log(waiter, "win that has to wait")
            waited = time.monotonic() - started
        assert 0.3 <= waited < 1.0
        log(waiter, "win once the writer is free")
        with waiter.session() as session:
            assert session.scalars(select(Entry.text)).all() == ["win once the writer is free"]
    finally:
        holder.dispose()
        waiter.dispose()
