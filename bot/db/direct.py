"""Plain DBAPI statements for the acknowledgement's hot paths.

A slash command logging an entry, or a reaction counting as applause, runs one or two
known statements. Through the ORM session and SQLAlchemy's connection they cost about
half a millisecond more per request on a 2-core machine than the write itself, and each
PostgreSQL statement in a transaction is another round trip. Here the statements are
compiled once from SQLAlchemy constructs, so they follow the models, then run on a pooled
DBAPI connection:

- SQLite: in a short BEGIN IMMEDIATE transaction, queued on the same writer lock as the
  engine's own transactions;
- PostgreSQL: as one statement in autocommit (data-modifying CTEs do the rest), so the
  whole write is one round trip and commits atomically.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Engine, event, exc
from sqlalchemy.sql import ClauseElement


class WriterLock(Protocol):
    def acquire(self) -> None: ...
    def release(self) -> None: ...


class Statement:
    """A SQLAlchemy statement compiled for one dialect, with its parameter conversions."""

    def __init__(self, statement: ClauseElement, engine: Engine):
        dialect = engine.dialect
        self._compiled = statement.compile(dialect=dialect)
        self.sql = str(self._compiled)
        if "POSTCOMPILE" in self.sql:  # `IN (…)` lists are expanded per execution
            raise ValueError("write `x IN (a, b)` as `or_(x == a, x == b)` here")
        _check_one_conversion_per_name(self._compiled.bind_names, dialect)
        self._convert = {
            key: convert for key, bind in self._compiled.binds.items()
            if (convert := bind.type.bind_processor(dialect)) is not None
        }
        # Values fixed in the statement (literals), converted once; the rest come per call.
        self._fixed = {key: self._converted(key, bind.effective_value)
                       for key, bind in self._compiled.binds.items()
                       if not bind.required and bind.callable is None}
        self._given = [key for key in self._compiled.binds if key not in self._fixed]
        self._order = self._compiled.positiontup if self._compiled.positional else None

    def _converted(self, key: str, value: Any) -> Any:
        convert = self._convert.get(key)
        return value if convert is None else convert(value)

    def parameters(self, values: dict[str, Any]) -> Any:
        """The DBAPI parameters for `values` (by bind name); a missing one is a KeyError."""
        params = dict(self._fixed)
        for key in self._given:
            params[key] = self._converted(key, values[key])
        if self._order is not None:
            return tuple(params[key] for key in self._order)
        return params


def _check_one_conversion_per_name(bind_names: dict[Any, str], dialect: Any) -> None:
    """A parameter used in several places must be converted the same way in each: the
    statement keeps one conversion per name (an untyped copy of a datetime parameter
    would otherwise reach the driver with its time zone, and be stored shifted)."""
    types: dict[str, set[type]] = {}
    converted: set[str] = set()
    for bind, name in bind_names.items():
        types.setdefault(name, set()).add(type(bind.type))
        if bind.type.bind_processor(dialect) is not None:
            converted.add(name)
    for name in converted:
        if len(types[name]) > 1:
            raise TypeError(f"parameter {name!r} has several types: "
                            f"{sorted(k.__name__ for k in types[name])}; type each the same")


class Cursor:
    """Runs compiled statements on one DBAPI cursor; at most one when `single`."""

    def __init__(self, cursor: Any, *, single: bool = False):
        self._cursor = cursor
        self._left = 1 if single else None

    def _execute(self, statement: Statement, values: dict[str, Any]) -> None:
        if self._left is not None:
            if self._left == 0:  # it would commit on its own: not one transaction
                raise RuntimeError("one statement per write on PostgreSQL (autocommit)")
            self._left -= 1
        self._cursor.execute(statement.sql, statement.parameters(values))

    def one(self, statement: Statement, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """Run it and return its first row (None when it returns none)."""
        self._execute(statement, values)
        if self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    def run(self, statement: Statement, values: dict[str, Any]) -> int:
        """Run it; return how many rows it changed."""
        self._execute(statement, values)
        return self._cursor.rowcount


class Direct:
    """Hot-path writes on the engine's pool, without the session."""

    def __init__(self, engine: Engine, writer: WriterLock | None):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = writer
        self._statements: dict[str, Statement] = {}

    def statement(self, name: str, build: Any) -> Statement:
        """The statement `build(dialect_name)` makes, compiled once per name."""
        compiled = self._statements.get(name)
        if compiled is None:
            compiled = self._statements[name] = Statement(build(self.dialect), self.engine)
        return compiled

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        """One transaction, committed when the block ends and rolled back if it raises.

        On PostgreSQL the block runs a single statement, in autocommit."""
        with self._connection() as raw:
            if self._writer is not None:
                yield from self._sqlite_transaction(raw)
            else:
                yield from self._autocommit(raw, single=True)

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        """Reads outside any transaction: no writer lock on SQLite (WAL readers do not
        wait for the writer), no BEGIN round trip on PostgreSQL."""
        with self._connection() as raw:
            if self._writer is not None:
                cursor = raw.cursor()
                try:
                    yield Cursor(cursor)
                finally:
                    cursor.close()
            else:
                yield from self._autocommit(raw, single=False)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        raw = self.engine.raw_connection()
        try:
            yield raw
        except Exception as error:
            # As SQLAlchemy's own connections do: a lost connection never goes back.
            if self.engine.dialect.is_disconnect(error, raw.dbapi_connection, None):
                raw.invalidate(error)
            raise
        finally:
            raw.close()  # back to the pool

    def _sqlite_transaction(self, raw: Any) -> Iterator[Cursor]:
        assert self._writer is not None
        self._writer.acquire()
        try:
            cursor = raw.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield Cursor(cursor)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
        finally:
            self._writer.release()

    def _autocommit(self, raw: Any, *, single: bool) -> Iterator[Cursor]:
        driver = raw.driver_connection
        driver.autocommit = True
        try:
            with driver.cursor() as cursor:
                yield Cursor(cursor, single=single)
        finally:
            driver.autocommit = False  # as the pool and the engine expect it


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle for a while.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: a round trip per request. A
    connection in steady use has just proven itself; one that idled may have been closed
    by the server or a proxy, and is replaced before anyone uses it."""

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        used_at = record.info.get("used_at")
        if used_at is None or time.monotonic() - used_at < idle_seconds:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as error:
            # The pool discards this connection and checks out another one.
            raise exc.DisconnectionError() from error
