"""Full-text index of entries, in each database's own machinery.

SQLite: an FTS5 table `entries_fts` over `entries` (external content: the text is not
stored twice), kept in step by triggers. Indexing a text is most of the cost of storing an
entry, so it happens after the commit (since 0008): the insert trigger only notes the id
in `entries_fts_pending`, and `catch_up` indexes what is noted, from the outbox worker
between passes and from every search before it looks (so a search always finds what was
just logged). The delete and update triggers touch the index only for entries already in
it: FTS5 must be told exactly what it holds. So catch up before FTS5's 'integrity-check'
(it counts noted entries as missing), and never 'rebuild' without emptying the pending
table in the same transaction (catch-up would index those entries twice).

PostgreSQL: a generated `tsvector` column with a GIN index. Both index the workspace too
(FTS5: a `team_id` column; PostgreSQL: a lexeme `@T…` no text can produce), so a search
walks its own workspace's matches only; on PostgreSQL, who may see an entry is indexed the
same way (`org@T…`, `#channel`, `!author`), so the GIN index hands back (nearly) only the
matches the searcher may see.

Both are made by migrations with raw DDL written out in them (0007 builds the index, 0008
moves SQLite's indexing after the commit, 0009 re-creates the triggers after rebuilding
`entries`): a new shape of the index is a new migration, never an edit here. Alembic's
autogenerate cannot see that DDL in the models: `include_object` keeps it out of the
models/migrations comparison.
"""

from __future__ import annotations

from typing import Any

FTS_TABLE = "entries_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_entries_search_vector"
# Stemming alike on both sides: Porter on SQLite, the `english` configuration on PostgreSQL.
PG_CONFIG = "english"

# 0008: entries waiting to be indexed (see the module's docstring).
PENDING_TABLE = f"{FTS_TABLE}_pending"
# What catch_up runs, in one write transaction: nothing can be noted in between.
SQLITE_ANY_PENDING = f"SELECT 1 FROM {PENDING_TABLE} LIMIT 1"
SQLITE_CATCH_UP = [
    f"""INSERT INTO {FTS_TABLE}(rowid, text, tags, team_id)
        SELECT entries.id, entries.text, entries.tags, entries.team_id
        FROM {PENDING_TABLE} JOIN entries ON entries.id = {PENDING_TABLE}.id""",
    f"DELETE FROM {PENDING_TABLE}",
]


def catch_up(connection: Any) -> None:
    """SQLite: index the entries noted since the last catch-up, in the caller's (write)
    transaction on a SQLAlchemy connection. A no-op elsewhere."""
    if connection.dialect.name != "sqlite":
        return
    if connection.exec_driver_sql(SQLITE_ANY_PENDING).first() is None:
        return
    for statement in SQLITE_CATCH_UP:
        connection.exec_driver_sql(statement)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Alembic's filter: the full-text objects live outside the models on purpose."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False  # the FTS5 table and its shadow tables (_data, _idx, _config …)
    return not (type_ == "column" and name == PG_COLUMN or type_ == "index" and name == PG_INDEX)
