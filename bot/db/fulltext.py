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
Both are made by a migration with raw DDL, which Alembic's autogenerate cannot see in
the models: `include_object` keeps them out of the models/migrations comparison.
"""

from __future__ import annotations

from typing import Any

FTS_TABLE = "entries_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_entries_search_vector"
# Stemming alike on both sides: Porter on SQLite, the `english` configuration on PostgreSQL.
PG_CONFIG = "english"

# The index as migration 0007 made it (0008 then moves indexing after the commit).
SQLITE_CREATE = [
    f"""CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
        text, tags, team_id, content='entries', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
        INSERT INTO {FTS_TABLE}(rowid, text, tags, team_id)
        VALUES (new.id, new.text, new.tags, new.team_id);
    END""",
    f"""CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, tags, team_id)
        VALUES ('delete', old.id, old.text, old.tags, old.team_id);
    END""",
    f"""CREATE TRIGGER entries_fts_update AFTER UPDATE OF text, tags, team_id ON entries
    BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, tags, team_id)
        VALUES ('delete', old.id, old.text, old.tags, old.team_id);
        INSERT INTO {FTS_TABLE}(rowid, text, tags, team_id)
        VALUES (new.id, new.text, new.tags, new.team_id);
    END""",
    # Index what is already there.
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]

# 0008: index after the commit (see the module's docstring).
PENDING_TABLE = f"{FTS_TABLE}_pending"
_NOT_PENDING = f"NOT EXISTS (SELECT 1 FROM {PENDING_TABLE} WHERE id = old.id)"
SQLITE_DEFER = [
    f"CREATE TABLE {PENDING_TABLE} (id INTEGER PRIMARY KEY)",
    "DROP TRIGGER entries_fts_insert",
    "DROP TRIGGER entries_fts_delete",
    "DROP TRIGGER entries_fts_update",
    f"""CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
        INSERT OR IGNORE INTO {PENDING_TABLE}(id) VALUES (new.id);
    END""",
    f"""CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, tags, team_id)
        SELECT 'delete', old.id, old.text, old.tags, old.team_id WHERE {_NOT_PENDING};
        DELETE FROM {PENDING_TABLE} WHERE id = old.id;
    END""",
    f"""CREATE TRIGGER entries_fts_update AFTER UPDATE OF text, tags, team_id ON entries
    WHEN {_NOT_PENDING} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, tags, team_id)
        VALUES ('delete', old.id, old.text, old.tags, old.team_id);
        INSERT INTO {FTS_TABLE}(rowid, text, tags, team_id)
        VALUES (new.id, new.text, new.tags, new.team_id);
    END""",
]
# What catch_up runs, in one write transaction: nothing can be noted in between.
SQLITE_ANY_PENDING = f"SELECT 1 FROM {PENDING_TABLE} LIMIT 1"
SQLITE_CATCH_UP = [
    f"""INSERT INTO {FTS_TABLE}(rowid, text, tags, team_id)
        SELECT entries.id, entries.text, entries.tags, entries.team_id
        FROM {PENDING_TABLE} JOIN entries ON entries.id = {PENDING_TABLE}.id""",
    f"DELETE FROM {PENDING_TABLE}",
]
# Back to 0007's shape: index what is noted, then the triggers that index at once.
SQLITE_UNDEFER = [*SQLITE_CATCH_UP,
                  "DROP TRIGGER entries_fts_insert",
                  "DROP TRIGGER entries_fts_delete",
                  "DROP TRIGGER entries_fts_update",
                  f"DROP TABLE {PENDING_TABLE}",
                  *SQLITE_CREATE[1:4]]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS entries_fts_update",
    "DROP TRIGGER IF EXISTS entries_fts_delete",
    "DROP TRIGGER IF EXISTS entries_fts_insert",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]

POSTGRES_CREATE = [
    f"""ALTER TABLE entries ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('{PG_CONFIG}', coalesce(tags, '')), 'A')
        || to_tsvector('{PG_CONFIG}', coalesce(text, ''))
        || array_to_tsvector(ARRAY['@' || team_id, visibility || '@' || team_id,
                                   '#' || channel_id, '!' || author_id])) STORED""",
    f"CREATE INDEX {PG_INDEX} ON entries USING gin ({PG_COLUMN})",
]

POSTGRES_DROP = [
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE entries DROP COLUMN IF EXISTS {PG_COLUMN}",
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


def create_statements(dialect: str) -> list[str]:
    """The DDL that builds the index on this dialect (none elsewhere)."""
    return {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(dialect, [])


def drop_statements(dialect: str) -> list[str]:
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(dialect, [])


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Alembic's filter: the full-text objects live outside the models on purpose."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False  # the FTS5 table and its shadow tables (_data, _idx, _config …)
    return not (type_ == "column" and name == PG_COLUMN or type_ == "index" and name == PG_INDEX)
