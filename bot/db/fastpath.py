"""The acknowledgement's hot paths: a write defined once, run the cheapest way each
database allows.

Logging an entry from `/debrief win …` and counting a reaction are a few statements each,
on every request. Through the ORM session each PostgreSQL statement is a round trip, and
the session itself costs about 0.1 ms more per request than the write on a 2-core machine.
So a service defines such a write once, as a `Chain` of steps built from SQLAlchemy
constructs (no dialect in sight), and `run(db, chain, values)` chooses how to run it:

- when the unit of work has already begun its transaction, the steps run on the session's
  connection and commit with everything else;
- otherwise the chain is the unit of work's whole write, and runs on a pooled DBAPI
  connection without the session: on PostgreSQL as ONE statement (each step a
  data-modifying CTE) in autocommit, a single round trip; on SQLite as one
  BEGIN IMMEDIATE transaction behind the writer lock. The session then refuses to begin
  another transaction: a later write could not be atomic with this one.

A step may be guarded by an earlier one (`after`): it changes nothing unless that step
returned a row. On SQLite the chain simply stops there; in one PostgreSQL statement every
CTE runs, so the step's builder must also put `kit.ran(after)` in its WHERE (the tests run
every chain on both databases). Statements are compiled once per chain and dialect.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    HasCTE,
    bindparam,
    event,
    exc,
    exists,
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from bot.db.sqlite import WriterLock


class Kit:
    """What a step's builder may use: the same names on every database."""

    def __init__(self, dialect: str, ctes: dict[str, Any] | None = None):
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._ctes = ctes

    def insert(self, table: Any) -> Any:
        """INSERT with `on_conflict_do_nothing()` / `on_conflict_do_update()`."""
        return self._insert(table)

    def value(self, step: str, column: str) -> ColumnElement[Any]:
        """A column an earlier step returned (NULL if it returned no row)."""
        if self._ctes is None:
            return bindparam(_carried(step, column))
        return select(self._ctes[step].c[column]).limit(1).scalar_subquery()

    def ran(self, step: str) -> ColumnElement[bool]:
        """Whether an earlier step returned a row."""
        if self._ctes is None:
            return true()  # the chain stops at a step that returned none
        return exists(select(literal(1)).select_from(self._ctes[step]))


@dataclass(frozen=True)
class Step:
    """One statement of a chain. `after`: only if that earlier step returned a row."""

    name: str
    build: Callable[[Kit], HasCTE]  # a SELECT, INSERT, UPDATE or DELETE
    after: str | None = None


class Chain:
    """Steps run in order as one transaction; `result` names the step whose first
    returned column `run` hands back (None when it returned no row)."""

    def __init__(self, *steps: Step, result: str):
        self.steps, self.result = steps, result
        self._compiled: dict[str, Any] = {}  # built and compiled once per dialect

    def one_statement(self) -> Any:
        """PostgreSQL: every step a CTE of one SELECT of the result (built once)."""
        built = self._compiled.get("one statement")
        if built is None:
            built = self._compiled["one statement"] = self._one_statement()
        return built

    def in_turn(self, dialect: str) -> list[tuple[Step, Any]]:
        """Every step on its own, taking earlier steps' columns as parameters (built
        once per dialect)."""
        built = self._compiled.get(f"in turn {dialect}")
        if built is None:
            kit = Kit(dialect)
            built = self._compiled[f"in turn {dialect}"] = [
                (step, step.build(kit)) for step in self.steps]
        return built

    def _one_statement(self) -> Any:
        ctes: dict[str, Any] = {}
        kit = Kit("postgresql", ctes)
        for step in self.steps:
            ctes[step.name] = step.build(kit).cte(step.name)
        result = ctes[self.result]
        statement = select(select(result.c[0]).limit(1).scalar_subquery())
        for cte in ctes.values():
            statement = statement.add_cte(cte)
        return statement


def _carried(step: str, column: str) -> str:
    return f"{step}__{column}"


def run(db: Session, chain: Chain, values: dict[str, Any]) -> Any:
    """Run `chain` with `values` (by parameter name) in the unit of work `db`: the result
    step's first returned column, or None."""
    if db.in_transaction():
        return _in_session(db, chain, values)
    fast: FastPath = db.info["fastpath"]
    result = fast.run(chain, values)
    db.info["written"] = True  # see `refuse_second_transaction`
    return result


def peek(db: Session, query: Any, values: dict[str, Any]) -> Any:
    """The first column of `query`'s first row (None without one), read without opening
    the session's transaction when none is open: no writer lock on SQLite, no BEGIN round
    trip on PostgreSQL."""
    if db.in_transaction():
        return db.execute(query, values).scalar()
    fast: FastPath = db.info["fastpath"]
    return fast.peek(query, values)


def _in_session(db: Session, chain: Chain, values: dict[str, Any]) -> Any:
    # The same compiled statements, on the session's own DBAPI connection: its transaction.
    # (Through Connection.execute, parameters named after a table's columns would be
    # added to an INSERT's VALUES.)
    fast: FastPath = db.info["fastpath"]
    return fast.run_on(db.connection().connection.dbapi_connection, chain, values)


def refuse_second_transaction(sessions: Any) -> None:
    """A session whose unit of work was written by the fast path may not begin another
    transaction: that write would not be atomic with the first."""

    @event.listens_for(sessions, "after_begin")
    def after_begin(session: Session, _transaction: Any, _connection: Any) -> None:
        if session.info.get("written"):
            raise RuntimeError("this unit of work already committed through the fast path")


class Statement:
    """A SQLAlchemy statement compiled for one dialect, with its parameter conversions."""

    def __init__(self, statement: ClauseElement, engine: Engine):
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # a statement's compiler (DDL has another)
        self._compiled = compiled
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
        # The rest, each with its conversion (None: as it is).
        self._given = [(key, self._convert.get(key)) for key in self._compiled.binds
                       if key not in self._fixed]
        self._order = self._compiled.positiontup if self._compiled.positional else None

    def _converted(self, key: str, value: Any) -> Any:
        convert = self._convert.get(key)
        return value if convert is None else convert(value)

    def parameters(self, values: dict[str, Any]) -> Any:
        """The DBAPI parameters for `values` (by bind name); a missing one is a KeyError."""
        params = dict(self._fixed)
        for key, convert in self._given:
            value = values[key]
            params[key] = value if convert is None else convert(value)
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


class FastPath:
    """Runs chains and peeks on the engine's pool, without the session."""

    def __init__(self, engine: Engine, writer: WriterLock | None):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = writer
        self._peeks: dict[Any, Statement] = {}

    def _compiled(self, chain: Chain) -> Any:
        compiled = chain._compiled.get(f"fast {self.dialect}")
        if compiled is None:
            if self.dialect == "postgresql":
                compiled = Statement(chain.one_statement(), self.engine)
            else:
                compiled = [(step, Statement(statement, self.engine))
                            for step, statement in chain.in_turn(self.dialect)]
            chain._compiled[f"fast {self.dialect}"] = compiled
        return compiled

    def run(self, chain: Chain, values: dict[str, Any]) -> Any:
        """The chain as a transaction of its own."""
        compiled = self._compiled(chain)
        with self._connection() as raw:
            if self._writer is None:
                with _autocommit(raw) as cursor:
                    cursor.execute(compiled.sql, compiled.parameters(values))
                    row = cursor.fetchone()
                    return None if row is None else row[0]
            with self._sqlite_transaction(raw) as cursor:
                return _steps(cursor, compiled, chain.result, values)

    def run_on(self, dbapi_connection: Any, chain: Chain, values: dict[str, Any]) -> Any:
        """The chain inside the transaction already open on `dbapi_connection`."""
        compiled = self._compiled(chain)
        cursor = dbapi_connection.cursor()
        try:
            if self._writer is None:
                cursor.execute(compiled.sql, compiled.parameters(values))
                row = cursor.fetchone()
                return None if row is None else row[0]
            return _steps(cursor, compiled, chain.result, values)
        except self.engine.dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(None, None, error,
                                          self.engine.dialect.loaded_dbapi.Error,
                                          hide_parameters=True,
                                          dialect=self.engine.dialect) from error
        finally:
            cursor.close()

    def peek(self, query: Any, values: dict[str, Any]) -> Any:
        statement = self._peeks.get(query)
        if statement is None:
            statement = self._peeks[query] = Statement(query, self.engine)
        with self._connection() as raw:
            if self._writer is None:
                with _autocommit(raw) as cursor:
                    cursor.execute(statement.sql, statement.parameters(values))
                    row = cursor.fetchone()
            else:  # WAL readers do not wait for the writer
                cursor = raw.cursor()
                try:
                    cursor.execute(statement.sql, statement.parameters(values))
                    row = cursor.fetchone()
                finally:
                    cursor.close()
        return None if row is None else row[0]

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        raw = self.engine.raw_connection()
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            yield raw
        except dbapi.Error as error:
            # As SQLAlchemy's own connections do: a lost connection never goes back, and
            # the error is SQLAlchemy's, as on the session's path.
            lost = self.engine.dialect.is_disconnect(error, raw.dbapi_connection, None)
            if lost:
                raw.invalidate(error)
            raise exc.DBAPIError.instance(None, None, error, dbapi.Error, hide_parameters=True,
                                          dialect=self.engine.dialect,
                                          connection_invalidated=lost) from error
        finally:
            raw.close()  # back to the pool

    @contextmanager
    def _sqlite_transaction(self, raw: Any) -> Iterator[Any]:
        assert self._writer is not None
        cursor = raw.cursor()
        self._writer.begin(cursor.execute, raw.info)
        try:
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
        finally:
            self._writer.release()


def _steps(cursor: Any, compiled: list[tuple[Step, Statement]], result: str,
           values: dict[str, Any]) -> Any:
    """SQLite: the steps in turn, each taking the columns earlier ones returned."""
    params = dict(values)
    returned: dict[str, bool] = {}
    answer = None
    for step, statement in compiled:
        if step.after is not None and not returned.get(step.after):
            returned[step.name] = False
            continue
        cursor.execute(statement.sql, statement.parameters(params))
        row = cursor.fetchone() if cursor.description is not None else None
        returned[step.name] = row is not None
        if row is not None:
            params.update({_carried(step.name, column[0]): value
                           for column, value in zip(cursor.description, row, strict=True)})
            if step.name == result:
                answer = row[0]
    return answer


@contextmanager
def _autocommit(raw: Any) -> Iterator[Any]:
    driver = raw.driver_connection
    driver.autocommit = True
    try:
        with driver.cursor() as cursor:
            yield cursor
    finally:
        driver.autocommit = False  # as the pool and the engine expect it


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle for a while.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: a round trip per request. A
    connection in steady use has just proven itself; one that idled may have been closed
    by the server or a proxy, and is replaced before anyone uses it."""

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
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
