"""The engine and the session factory, in one place."""

from __future__ import annotations

import fcntl
import os
import threading

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db import fulltext
from bot.db.direct import Direct, ping_after_idle

# A pooled PostgreSQL connection idle this long is checked before it is used again.
PING_AFTER_IDLE = 10.0
# SQLite: the outbox worker checkpoints the write-ahead log between its passes
# (Database.checkpoint), so no request's commit waits for a checkpoint and its fsync. A
# commit still checkpoints when the log passes this many pages (about 40 MB): the safety
# net for a process whose worker is not running.
WAL_SAFETY_PAGES = 10_000


def make_engine(url: str) -> Engine:
    """An engine tuned for the bot: SQLite in WAL mode with a busy timeout."""
    return _engine(url)[0]


def _engine(url: str) -> tuple[Engine, _WriterLock | None]:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)
        return engine, _tune_sqlite(engine)
    # hide_parameters: errors and logs never carry what people wrote.
    engine = create_engine(url, pool_size=10, max_overflow=10, hide_parameters=True)
    ping_after_idle(engine, PING_AFTER_IDLE)
    return engine, None


def _tune_sqlite(engine: Engine) -> _WriterLock:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
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

    # SQLite has one writer at a time, and its busy handler waits for the lock by
    # sleeping 1, 2, 5 … 100 ms: that made p99 latency slow under load. So transactions
    # queue on a lock that wakes the next waiter at once instead: a Python lock between
    # this process's threads, an flock(2) on a file beside the database between processes.
    writer = _WriterLock(engine.url.database)

    @event.listens_for(engine, "begin")
    def on_begin(connection):  # type: ignore[no-untyped-def]
        writer.acquire()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def on_end(connection):  # type: ignore[no-untyped-def]
        writer.release()

    return writer


class _WriterLock:
    """Mutual exclusion of SQLite transactions across threads and processes."""

    def __init__(self, database: str | None):
        self._threads = threading.Lock()
        self._file: int | None = None
        if database and database != ":memory:" and not database.startswith("file:"):
            self._file = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        self._threads.acquire()
        if self._file is not None:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()


class Database:
    """One engine and its session factory, shared by every part of a process."""

    def __init__(self, url: str):
        self.url = url
        self.engine, writer = _engine(url)
        # The acknowledgement's hot paths (bot/db/direct.py), on the same pool and lock.
        self.direct = Direct(self.engine, writer)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """SQLite: copy the write-ahead log back into the database file, without waiting
        for readers or writers (PASSIVE); (busy, log pages, pages copied). None elsewhere."""
        if self.direct.dialect != "sqlite":
            return None
        with self.direct.read() as cursor:
            return cursor.one(self.direct.statement(
                "wal:checkpoint", lambda _: text("PRAGMA wal_checkpoint(PASSIVE)")), {})

    def index_pending(self) -> None:
        """SQLite: index the entries logged since the last time (bot/db/fulltext.py), in a
        short write transaction of its own; when none are waiting, a look that takes no
        lock, as the worker does this after every pass."""
        if self.direct.dialect != "sqlite":
            return
        with self.direct.read() as cursor:
            if cursor.one(self.direct.statement(
                    "fts:any", lambda _: text(fulltext.SQLITE_ANY_PENDING)), {}) is None:
                return
        with self.engine.begin() as connection:  # the writer lock, BEGIN IMMEDIATE
            fulltext.catch_up(connection)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return True
        except Exception:  # any failure means "not answering"
            return False

    def dispose(self) -> None:
        self.engine.dispose()
