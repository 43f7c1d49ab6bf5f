"""The engine and the session factory, in one place; the only package that knows which
database it talks to (SQLite's upkeep in `sqlite.py`, the hot paths in `fastpath.py`,
full-text search in `fulltext.py`).

Nothing waits for the database for long: a request must answer Slack within 3 seconds,
with the person's text handed back if it could not be saved, and it may first have spent
up to `directory.BUDGET` (0.9 s) asking Slack about the person. So on PostgreSQL a
connection from the pool is waited for POOL_TIMEOUT (0.3 s) and a statement runs for
STATEMENT_TIMEOUT_MS (1.5 s, row locks waited for included): 2.7 s in all at worst. A new
PostgreSQL connection (libpq counts whole seconds) and the writer lock on SQLite
(`sqlite.WRITER_TIMEOUT`) give up after about two seconds. Work nobody is waiting on (the
outbox worker and the clock: `session(patient=True)`; migrations: `make_engine`) may wait
and run statements for longer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.db import fulltext, migrate, sqlite
from bot.db.fastpath import FastPath, ping_after_idle, refuse_second_transaction
from bot.db.sqlite import DatabaseBusy, WriterLock

__all__ = ["Database", "DatabaseBusy", "make_engine"]

# A pooled PostgreSQL connection idle this long is checked before it is used again.
PING_AFTER_IDLE = 10.0
# Seconds to wait for a free connection in the pool (20 of them: a longer wait means the
# process is overloaded, and the person is better told at once, their text handed back).
POOL_TIMEOUT = 0.3
# The same for work nobody waits on (PostgreSQL's patient pool), and on SQLite, where the
# writer lock (`sqlite.WRITER_TIMEOUT`) is what bounds a request's wait.
PATIENT_POOL_TIMEOUT = 2.0
# PostgreSQL: seconds to open a connection (libpq counts whole seconds, two at least).
CONNECT_TIMEOUT = 2
# PostgreSQL: milliseconds a statement may run (waiting for locks included) when a
# request waits on it; work nobody waits on gets PATIENT_STATEMENT_TIMEOUT_MS.
STATEMENT_TIMEOUT_MS = 1500
PATIENT_STATEMENT_TIMEOUT_MS = 60_000
# SQLite: entries indexed per write transaction when catching up (about a millisecond of
# the writer lock each on a 2-core machine).
INDEX_CHUNK = 50


def make_engine(url: str) -> Engine:
    """An engine for migrations: SQLite in WAL mode behind the writer lock; PostgreSQL
    statements without a time limit (a migration may rewrite a big table)."""
    return _engine(url, statement_timeout_ms=0)[0]


def _engine(url: str, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS, *,
            pool_size: int = 10, max_overflow: int = 10,
            pool_timeout: float = POOL_TIMEOUT) -> tuple[Engine, WriterLock | None]:
    # hide_parameters: errors and logs never carry what people wrote.
    if url.startswith("sqlite"):
        # The writer lock bounds every wait (bot/db/sqlite.py); SQLite's own busy timeout
        # is set per transaction to what is left of it. LIFO: the connection used last
        # is used next, its page cache warm, while the others idle.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_timeout=PATIENT_POOL_TIMEOUT, pool_use_lifo=True,
                               hide_parameters=True)
        return engine, sqlite.tune(engine)
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                           pool_timeout=pool_timeout,
                           connect_args=postgres_limits(url, statement_timeout_ms),
                           hide_parameters=True)
    ping_after_idle(engine, PING_AFTER_IDLE)
    return engine, None


def _reader(url: str) -> Engine:
    """SQLite: an engine for reading only, beside the writer's (sqlite.tune_reader)."""
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_timeout=PATIENT_POOL_TIMEOUT, hide_parameters=True)
    sqlite.tune_reader(engine)
    return engine


def postgres_limits(url: str, statement_timeout_ms: int) -> dict[str, Any]:
    """libpq's connect_timeout, and the statement timeout as a server option, added to
    what the URL says (its `options`, such as a search_path, are kept; a statement
    timeout or connect timeout the URL sets itself wins)."""
    query = make_url(url).query
    given = query.get("options") or ""
    options = " ".join(given) if isinstance(given, tuple) else given
    if "statement_timeout" not in options:
        options = f"{options} -c statement_timeout={statement_timeout_ms}".strip()
    limits: dict[str, Any] = {"options": options}
    if "connect_timeout" not in query:
        limits["connect_timeout"] = CONNECT_TIMEOUT
    return limits


class Database:
    """One engine and its session factory, shared by every part of a process.

    A session is one unit of work: whoever opens it commits it (a request, a pass of the
    outbox worker or of the clock); services only flush."""

    def __init__(self, url: str):
        self.url = url
        self.engine, self._writer = _engine(url)
        self.sessions = _sessions(self.engine, self._writer)
        # PostgreSQL: patient work gets its own few connections, whose statements may
        # run longer (a connection option: no extra round trip per transaction).
        self._patient = None if self._writer is not None else _engine(
            url, PATIENT_STATEMENT_TIMEOUT_MS, pool_size=1, max_overflow=4,
            pool_timeout=PATIENT_POOL_TIMEOUT)[0]
        self.patient_sessions = self.sessions if self._patient is None else \
            _sessions(self._patient, None)
        # SQLite: reads that may not wait for, nor hold up, a writer (`session(reading=
        # True)`); on PostgreSQL a read never holds up a write anyway.
        self._reader = _reader(url) if self._writer is not None else None
        self.reading_sessions = self.patient_sessions if self._reader is None else \
            sessionmaker(self._reader, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def shares_pace(self) -> bool:
        """Whether several processes may send to Slack through this database, so the
        pace of Slack calls is kept in it (bot/db/pace.py): PostgreSQL. SQLite has one
        process send, which keeps the pace in memory."""
        return self._writer is None

    def session(self, *, patient: bool = False, reading: bool = False) -> Session:
        """A unit of work. Its statements give up after STATEMENT_TIMEOUT_MS, as a
        request's answer waits on them; `patient` (work nobody waits on, such as the
        outbox worker's) after PATIENT_STATEMENT_TIMEOUT_MS. `reading`: patient work
        that only reads; on SQLite it cannot write, and never takes the writer lock."""
        if reading:
            return self.reading_sessions()
        return self.patient_sessions() if patient else self.sessions()

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
        """SQLite: index the entries logged since the last time (bot/db/fulltext.py), in
        short write transactions of their own, INDEX_CHUNK entries each, so a request
        never waits for the writer lock behind a long backlog; when none are waiting, a
        look that takes no lock (the outbox worker does this after every pass)."""
        if self._writer is None:
            return
        raw = self.engine.raw_connection()
        try:
            waiting = fulltext.anything_to_index(raw)
        finally:
            raw.close()
        while waiting:
            with self.engine.begin() as connection:  # the writer lock, BEGIN IMMEDIATE
                waiting = fulltext.catch_up(connection, INDEX_CHUNK)

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
        if self._reader is not None:
            self._reader.dispose()
        if self._patient is not None:
            self._patient.dispose()


def _sessions(engine: Engine, writer: WriterLock | None) -> sessionmaker[Session]:
    sessions = sessionmaker(engine, expire_on_commit=False,
                            info={"fastpath": FastPath(engine, writer)})
    refuse_second_transaction(sessions)
    return sessions
