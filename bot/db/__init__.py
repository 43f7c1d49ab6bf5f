"""The engine and the session factory, in one place; the only package that knows which
database it talks to (SQLite's upkeep in `sqlite.py`, the hot paths in `fastpath.py`,
full-text search in `fulltext.py`)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db import fulltext, migrate, sqlite
from bot.db.fastpath import FastPath, ping_after_idle, refuse_second_transaction
from bot.db.sqlite import DatabaseBusy, WriterLock

__all__ = ["Database", "DatabaseBusy", "make_engine"]

# A pooled PostgreSQL connection idle this long is checked before it is used again.
PING_AFTER_IDLE = 10.0


def make_engine(url: str) -> Engine:
    """An engine tuned for the bot: SQLite in WAL mode behind a writer lock."""
    return _engine(url)[0]


def _engine(url: str) -> tuple[Engine, WriterLock | None]:
    # hide_parameters: errors and logs never carry what people wrote.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)
        return engine, sqlite.tune(engine)
    engine = create_engine(url, pool_size=10, max_overflow=10, hide_parameters=True)
    ping_after_idle(engine, PING_AFTER_IDLE)
    return engine, None


class Database:
    """One engine and its session factory, shared by every part of a process.

    A session is one unit of work: whoever opens it commits it (a request, a pass of the
    outbox worker or of the clock); services only flush."""

    def __init__(self, url: str):
        self.url = url
        self.engine, self._writer = _engine(url)
        fast = FastPath(self.engine, self._writer)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False,
                                     info={"fastpath": fast})
        refuse_second_transaction(self.sessions)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def shares_pace(self) -> bool:
        """Whether several processes may send to Slack through this database, so the
        pace of Slack calls is kept in it (bot/db/pace.py): PostgreSQL. SQLite has one
        process send, which keeps the pace in memory."""
        return self._writer is None

    def session(self) -> Session:
        return self.sessions()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """SQLite: copy the write-ahead log back into the database file without waiting
        (sqlite.checkpoint); None elsewhere."""
        if self._writer is None:
            return None
        raw = self.engine.raw_connection()
        try:
            return sqlite.checkpoint(raw)
        finally:
            raw.close()

    def index_pending(self) -> None:
        """SQLite: index the entries logged since the last time (bot/db/fulltext.py), in a
        short write transaction of its own; when none are waiting, a look that takes no
        lock, as the worker does this after every pass."""
        if self._writer is None:
            return
        raw = self.engine.raw_connection()
        try:
            waiting = sqlite.anything_to_index(raw)
        finally:
            raw.close()
        if waiting:
            with self.engine.begin() as connection:  # the writer lock, BEGIN IMMEDIATE
                fulltext.catch_up(connection)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return True
        except Exception:  # any failure means "not answering"
            return False

    def readiness(self) -> dict[str, str]:
        """Whether this database can serve the code now: {"db": "ok", "schema":
        "current"} when it answers and is at the newest migration; otherwise "db" is
        "unavailable", or "schema" says "behind" or "unknown" (bot/db/migrate.py)."""
        try:
            with self.engine.connect() as connection:
                state = migrate.schema_state(connection)
        except Exception:  # any failure means "not answering"
            return {"db": "unavailable"}
        return {"db": "ok", "schema": state}

    def dispose(self) -> None:
        self.engine.dispose()
