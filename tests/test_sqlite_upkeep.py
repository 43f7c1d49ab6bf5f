"""SQLite's upkeep stays out of people's way: reads that only read never wait for, nor
hold up, a writer; the outbox chooses what is due by such a read and leases it in a short
write; a backlog of new entries is indexed in short transactions, and found whole."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError

from bot.db import INDEX_CHUNK, Database
from bot.db.fulltext import PENDING_TABLE
from bot.db.models import Entry, OutboxMessage
from bot.ids import OutboxAction
from bot.outbox import store
from bot.services import entries, outbox
from bot.services.entries import NewEntry
from bot.services.search import Viewer
from bot.services.search import search as find


def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's writer lock and index catch-up")


def log(db: Database, text: str) -> int:
    with db.session() as session:
        return entries.log_entry(session, NewEntry(
            team_id="T0001", channel_id="C_TEAM", author_id="U_BOB",
            kind=entries.Kind.WIN, text=text)).id


def waiting_to_be_indexed(db: Database) -> int:
    with db.session(reading=True) as session:
        return session.scalar(text(f"SELECT count(*) FROM {PENDING_TABLE}"))


def test_a_read_neither_waits_for_nor_holds_up_a_writer(database_url):
    sqlite_only(database_url)
    db, other = Database(database_url), Database(database_url)
    other._writer.timeout = 0.3
    try:
        first = log(db, "win before the read")
        with db.session(reading=True) as reading:
            assert reading.scalars(select(Entry.text)).all() == ["win before the read"]
            # While the read is open, another process writes at once, not after 0.3 s.
            started = time.monotonic()
            log(other, "win during the read")
            assert time.monotonic() - started < 0.3
            # The read keeps the moment it began.
            assert reading.scalars(select(Entry.text)).all() == ["win before the read"]
        with other.session() as busy:
            busy.execute(select(Entry.id))  # BEGIN IMMEDIATE: holds the writer lock
            with db.session(reading=True) as reading:  # and a read does not wait for it
                started = time.monotonic()
                assert len(reading.scalars(select(Entry.id)).all()) == 2
                assert time.monotonic() - started < 0.3
        assert first
    finally:
        db.dispose()
        other.dispose()


def test_a_reading_session_cannot_write(database_url):
    sqlite_only(database_url)
    db = Database(database_url)
    try:
        with db.session(reading=True) as reading, pytest.raises(OperationalError):
            reading.execute(insert(Entry).values(
                team_id="T0001", channel_id="C_TEAM", author_id="U_BOB", kind="win",
                text="never stored", visibility="team", anonymous=False, source="command",
                created_at=func.current_timestamp(), tags=""))
        with db.session() as session:
            assert session.scalars(select(Entry.text)).all() == []
    finally:
        db.dispose()


def test_a_row_leased_between_the_read_and_the_lease_is_left_out(db):
    with db.session() as session:
        for n in range(3):
            outbox.enqueue(session, team_id="T1", action=OutboxAction.EPHEMERAL,
                           channel_id=f"C{n}", user_id="U1", payload={"text": str(n)})
        session.commit()
    with db.session(reading=True) as reading:
        ids = store.due_ids(reading, limit=10)
    assert len(ids) == 3
    with db.session() as other:  # another process leases the first one meanwhile
        [taken] = store.lease(other, ids[:1], claim="other")
        other.commit()
    with db.session() as session:
        leased = store.lease(session, ids, claim="ours")
        session.commit()
    assert [row.id for row in leased] == ids[1:]
    with db.session() as session:
        claims = dict(session.execute(select(OutboxMessage.id, OutboxMessage.claim)).all())
    assert claims == {ids[0]: "other", ids[1]: "ours", ids[2]: "ours"}
    assert taken.id == ids[0]


def test_a_backlog_is_indexed_in_short_transactions_and_found_whole(database_url, db):
    sqlite_only(database_url)
    ids = [log(db, f"entry {n} about the certificate") for n in range(INDEX_CHUNK * 2 + 5)]
    commits: list[int] = []
    original = db.engine.begin

    def counted_begin():  # each catch-up transaction
        commits.append(waiting_to_be_indexed(db))
        return original()

    db.engine.begin = counted_begin
    db.index_pending()
    assert commits == [2 * INDEX_CHUNK + 5, INDEX_CHUNK + 5, 5]
    assert waiting_to_be_indexed(db) == 0
    with db.session() as session:
        found = find(session, Viewer("T0001", "U_BOB", "C_TEAM"), "certificate", limit=1000)
    assert sorted(e.id for e in found) == ids
