"""full-text indexing after the commit (SQLite)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 12:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here as this revision made it (bot/db/fulltext.py says why): the insert
# trigger only notes the id, and the delete and update triggers touch the index only for
# entries it holds.
SQLITE_DEFER = [
    "CREATE TABLE entries_fts_pending (id INTEGER PRIMARY KEY)",
    "DROP TRIGGER entries_fts_insert",
    "DROP TRIGGER entries_fts_delete",
    "DROP TRIGGER entries_fts_update",
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

# Back to 0007's shape: index what is noted, then the triggers that index at once.
SQLITE_UNDEFER = [
    """INSERT INTO entries_fts(rowid, text, tags, team_id)
        SELECT entries.id, entries.text, entries.tags, entries.team_id
        FROM entries_fts_pending JOIN entries ON entries.id = entries_fts_pending.id""",
    "DELETE FROM entries_fts_pending",
    "DROP TRIGGER entries_fts_insert",
    "DROP TRIGGER entries_fts_delete",
    "DROP TRIGGER entries_fts_update",
    "DROP TABLE entries_fts_pending",
    """CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
        INSERT INTO entries_fts(rowid, text, tags, team_id)
        VALUES (new.id, new.text, new.tags, new.team_id);
    END""",
    """CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
        INSERT INTO entries_fts(entries_fts, rowid, text, tags, team_id)
        VALUES ('delete', old.id, old.text, old.tags, old.team_id);
    END""",
    """CREATE TRIGGER entries_fts_update AFTER UPDATE OF text, tags, team_id ON entries
    BEGIN
        INSERT INTO entries_fts(entries_fts, rowid, text, tags, team_id)
        VALUES ('delete', old.id, old.text, old.tags, old.team_id);
        INSERT INTO entries_fts(rowid, text, tags, team_id)
        VALUES (new.id, new.text, new.tags, new.team_id);
    END""",
]


def upgrade() -> None:
    # SQLite only: PostgreSQL's index is a generated column (migration 0007).
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DEFER:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UNDEFER:
            op.execute(statement)
