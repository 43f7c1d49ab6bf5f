"""The hot path's plain DBAPI writes (bot/db/direct.py) against the real databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.pool import NullPool

import bot.db
from bot.db import Database
from bot.db.models import Entry, OutboxMessage
from bot.ids import OutboxAction
from bot.services import entries
from bot.services.entries import NewEntry


def log(db: Database, text_: str = "win shipped it #release") -> Entry:
    with db.session() as session:
        return entries.log_now(db.direct, session, NewEntry(
            team_id="T1", channel_id="C1", author_id="U1", kind=entries.Kind.WIN,
            text=text_))


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


def test_a_failed_sqlite_write_rolls_back_and_frees_the_writer(db):
    if db.direct.dialect != "sqlite":
        pytest.skip("PostgreSQL writes one statement: it commits or fails whole")
    with pytest.raises(RuntimeError), db.direct.write() as cursor:
        cursor.one(db.direct.statement("entry", lambda _: entries._INSERT_ENTRY), {
            "team_id": "T1", "channel_id": "C1", "author_id": "U1", "kind": "win",
            "text": "lost?", "visibility": "team", "anonymous": False, "source": "command",
            "created_at": datetime.now(UTC), "tags": "", "card_id": None})
        raise RuntimeError("the request died mid-write")
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
        with pytest.raises(db.engine.dialect.loaded_dbapi.OperationalError):  # text handed back
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
    if db.direct.dialect == "postgresql":
        @event.listens_for(db.engine, "connect")
        def far_east(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.execute("SET TIME ZONE 'Asia/Tokyo'")
            dbapi_connection.commit()
    try:
        with db.session() as session:
            entry = entries.log_now(db.direct, session, NewEntry(
                team_id="T1", channel_id="C1", author_id="U1", kind=kind, text="it #went"))
        with db.session() as session:
            stored = session.get(Entry, entry.id)
            calls = session.scalars(select(OutboxMessage)).all()
        moment = datetime(2026, 3, 29, 1, 30, 0, 123, tzinfo=UTC)
        assert stored.created_at == moment
        assert len(calls) == (1 if kind == entries.Kind.WIN else 2)  # + related lessons
        assert {(call.next_attempt_at, call.created_at) for call in calls} == {(moment, moment)}
    finally:
        db.dispose()


def test_a_postgresql_write_is_one_statement_or_refused(db):
    if db.direct.dialect != "postgresql":
        pytest.skip("SQLite writes run in a transaction")
    ping = db.direct.statement("ping", lambda _: select(text("1")))
    with pytest.raises(RuntimeError, match="one statement"), db.direct.write() as cursor:
        cursor.one(ping, {})
        cursor.one(ping, {})  # would commit on its own, apart from the first
