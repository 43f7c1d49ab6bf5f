"""SQLite's upkeep, in one place: the engines' settings, the writer lock, read-only
sessions and the write-ahead log's checkpoint.

SQLite has one writer at a time, and its own busy handler waits for the lock by sleeping
1, 2, 5 … 100 ms: that made p99 latency slow under load. So write transactions queue on
a `WriterLock` instead, which wakes the next waiter at once: a Python lock between this
process's threads, an flock(2) on a file beside the database between processes. Every
transaction of the writer's engine (the session's, the fast path's) takes it, and gives
up after `WRITER_TIMEOUT` seconds with `DatabaseBusy`, so a request answers well inside
Slack's 3 seconds, with the person's text handed back. Something else writing to the
file (a `sqlite3` shell, a backup) does not take our lock: SQLite's own busy timeout, set
to what is left of WRITER_TIMEOUT, bounds that wait too. Work that only reads (the
outbox choosing what is due, a sender drawing its message) uses a reader's engine
(`tune_reader`): it cannot write, so it needs no lock, and never holds up a write.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

# The outbox worker checkpoints the write-ahead log between its passes (`checkpoint`), so
# no request's commit waits for a checkpoint and its fsync. A commit still checkpoints
# when the log passes this many pages (about 40 MB): the safety net for a process whose
# worker is not running.
WAL_SAFETY_PAGES = 10_000
# How long a transaction waits for the writer lock before it gives up.
WRITER_TIMEOUT = 2.0


class DatabaseBusy(OperationalError):
    """The database did not let us write in time; nothing was changed."""

    def __init__(self, waited: float):
        super().__init__(f"writer lock not free after {waited:.1f} s", None,
                         Exception("database busy"))


class WriterLock:
    """Mutual exclusion of SQLite write transactions across threads and processes."""

    # Between processes the flock is polled: flock(2) has no timeout of its own.
    POLL_FIRST, POLL_MAX = 0.0002, 0.001

    def __init__(self, database: str | None, timeout: float = WRITER_TIMEOUT):
        self.timeout = timeout
        self._threads = threading.Lock()
        self._file: int | None = None
        if database and database != ":memory:" and not database.startswith("file:"):
            self._file = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> float:
        """Take the lock, or raise DatabaseBusy after `timeout` seconds; the seconds of
        `timeout` left."""
        start = time.monotonic()
        if not self._threads.acquire(timeout=self.timeout):
            raise DatabaseBusy(self.timeout)
        if self._file is not None:
            try:
                self._lock_file(start)
            except BaseException:
                self._threads.release()
                raise
        return max(0.0, self.timeout - (time.monotonic() - start))

    def begin(self, execute: Callable[[str], Any], info: dict[str, Any]) -> None:
        """Take the lock and begin a write transaction with `execute` (SQL on the
        connection whose `info` this is), waiting for another writer of the file no
        longer than is left (to a tenth of a second below: the connection keeps its
        busy timeout while that stays the same, as it does when the lock was free)."""
        left = self.acquire()
        try:
            busy_ms = max(1, int(left * 10) * 100)
            if info.get(BUSY_TIMEOUT) != busy_ms:
                execute(f"PRAGMA busy_timeout={busy_ms}")
                info[BUSY_TIMEOUT] = busy_ms
            execute("BEGIN IMMEDIATE")
        except BaseException:
            self.release()
            raise

    def _lock_file(self, start: float) -> None:
        assert self._file is not None
        pause = self.POLL_FIRST
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= self.timeout:
                    raise DatabaseBusy(waited) from None
                time.sleep(pause)
                pause = min(pause * 2, self.POLL_MAX)

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()


def tune(engine: Engine) -> WriterLock:
    """WAL, foreign keys and our own transaction control on every connection of `engine`;
    every transaction begins IMMEDIATE behind the writer lock. Returns that lock."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE below is ours:
        # a deferred transaction that later writes can fail at once with "database is
        # locked" instead of waiting out the busy timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_SAFETY_PAGES}")
        cursor.close()

    writer = WriterLock(engine.url.database)

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        writer.begin(connection.exec_driver_sql, connection.info)

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def on_end(connection: Any) -> None:
        writer.release()

    return writer


def tune_reader(engine: Engine) -> None:
    """`engine` for reading only: its connections refuse to write (query_only), and its
    transactions begin DEFERRED without the writer lock, so a read never holds up a
    write (WAL readers read the last commit while a writer works)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN below is ours, as in `tune`
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(WRITER_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()
        record.info[READ_ONLY] = True

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")  # one snapshot for the whole read


# Set in the `info` of a reader's connections (`tune_reader`).
READ_ONLY = "debrief read only"
# A connection's busy timeout, in its `info` (WriterLock.begin).
BUSY_TIMEOUT = "debrief busy timeout"


def checkpoint(raw: Any) -> tuple[int, int, int]:
    """Copy the write-ahead log back into the database file without waiting for readers
    or writers (PASSIVE), on a DBAPI connection: (busy, log pages, pages copied)."""
    cursor = raw.cursor()
    try:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return tuple(cursor.fetchone())
    finally:
        cursor.close()
