"""foreign keys for the ids that point at other rows

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00

entries.card_id -> cards (ON DELETE SET NULL), applause.entry_id -> entries (CASCADE),
reflections.shared_entry_id -> entries (SET NULL), digest_runs.digest_id -> digests
(CASCADE). References to rows that are gone are repaired first, by the same rules.
applause.entry_id and reflections.shared_entry_id get an index of their own: deleting an
entry looks its references up, and without one each delete scans both tables.

SQLite adds a foreign key by re-creating the table (batch mode): every row is copied with
its id, so the FTS5 index over `entries` (keyed by rowid) stays true, and what waits in
`entries_fts_pending` still waits. The full-text triggers go with the old `entries`: they
are dropped first and re-created after, exactly as 0008 made them.
`PRAGMA foreign_keys` is left as the connection has it (the bot turns it on), so the order
matters: `entries` is re-created before any table refers to it (dropping a referenced
table deletes its rows first, and that would cascade), and back in reverse on downgrade.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import op
from alembic.operations import BatchOperations

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referred table, ON DELETE, index the column), `entries` first: see the
# docstring. entries.card_id has (team_id, card_id) and cards are never deleted;
# digest_runs.digest_id leads its unique key.
FOREIGN_KEYS = [
    ("entries", "card_id", "cards", "SET NULL", False),
    ("applause", "entry_id", "entries", "CASCADE", True),
    ("reflections", "shared_entry_id", "entries", "SET NULL", True),
    ("digest_runs", "digest_id", "digests", "CASCADE", False),
]

# A reference is repaired when its row is gone, or when the id now names another row: a
# row of another workspace (SQLite hands a deleted row's id out again), or, for a shared
# reflection, another person's entry.
REPAIR_ORPHANS = [
    """UPDATE entries SET card_id = NULL
    WHERE card_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM cards WHERE cards.id = entries.card_id
        AND cards.team_id = entries.team_id)""",
    """DELETE FROM applause
    WHERE entry_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM entries WHERE entries.id = applause.entry_id
        AND entries.team_id = applause.team_id)""",
    """UPDATE reflections SET shared_entry_id = NULL
    WHERE shared_entry_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM entries WHERE entries.id = reflections.shared_entry_id
        AND entries.team_id = reflections.team_id
        AND entries.author_id = reflections.author_id)""",
    """DELETE FROM digest_runs
    WHERE NOT EXISTS (
        SELECT 1 FROM digests WHERE digests.id = digest_runs.digest_id
        AND digests.team_id = digest_runs.team_id)""",
]

# SQLite's full-text triggers on `entries`, exactly as migration 0008 made them.
SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER entries_fts_insert",
    "DROP TRIGGER entries_fts_delete",
    "DROP TRIGGER entries_fts_update",
]
SQLITE_CREATE_TRIGGERS = [
    """CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
        INSERT OR IGNORE INTO entries_fts_pending(id) VALUES (new.id);
    END""",
    """CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
        INSERT INTO entries_fts(entries_fts, rowid, text, tags, team_id)
        SELECT 'delete', old.id, old.text, old.tags, old.team_id WHERE NOT EXISTS (SELECT 1 FROM entries_fts_pending WHERE id = old.id);
        DELETE FROM entries_fts_pending WHERE id = old.id;
    END""",  # noqa: E501 (the trigger's text, exactly as it was made)
    """CREATE TRIGGER entries_fts_update AFTER UPDATE OF text, tags, team_id ON entries
    WHEN NOT EXISTS (SELECT 1 FROM entries_fts_pending WHERE id = old.id) BEGIN
        INSERT INTO entries_fts(entries_fts, rowid, text, tags, team_id)
        VALUES ('delete', old.id, old.text, old.tags, old.team_id);
        INSERT INTO entries_fts(rowid, text, tags, team_id)
        VALUES (new.id, new.text, new.tags, new.team_id);
    END""",
]


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"  # the models' naming convention


def _index(table: str, column: str) -> str:
    return f"ix_{table}_{column}"


@contextmanager
def _altering(table: str) -> Iterator[BatchOperations]:
    """One table's change: an ALTER on PostgreSQL, a re-create on SQLite, where `entries`
    loses its full-text triggers on the way and gets them back."""
    sqlite_entries = table == "entries" and op.get_bind().dialect.name == "sqlite"
    if sqlite_entries:
        for statement in SQLITE_DROP_TRIGGERS:
            op.execute(statement)
    with op.batch_alter_table(table) as batch:
        yield batch
    if sqlite_entries:
        for statement in SQLITE_CREATE_TRIGGERS:
            op.execute(statement)


def upgrade() -> None:
    for statement in REPAIR_ORPHANS:
        op.execute(statement)
    for table, column, referred, rule, indexed in FOREIGN_KEYS:
        with _altering(table) as batch:
            batch.create_foreign_key(op.f(_name(table, column, referred)), referred,
                                     [column], ["id"], ondelete=rule)
            if indexed:
                batch.create_index(op.f(_index(table, column)), [column], unique=False)


def downgrade() -> None:
    # What refers to `entries` lets go of it before `entries` is re-created.
    for table, column, referred, _rule, indexed in reversed(FOREIGN_KEYS):
        with _altering(table) as batch:
            if indexed:
                batch.drop_index(op.f(_index(table, column)))
            batch.drop_constraint(op.f(_name(table, column, referred)), type_="foreignkey")
