"""entries.message_permalink: Slack's own link to an entry's message

Revision ID: 0016
Revises: 0009
Create Date: 2026-12-01 12:00:00

A nullable column, added in place on both databases: SQLite's ADD COLUMN does not
re-create `entries`, so its full-text triggers, the FTS5 index (keyed by rowid) and what
waits in `entries_fts_pending` are untouched. Entries posted before keep a NULL, and are
linked to the way they were (a link built from the channel and the ts).

Down, SQLite drops the column in place too (DROP COLUMN, SQLite 3.35+), never by batch
re-creation: dropping the old `entries` would delete its rows first, and with foreign keys
on that cascades to their applause (see 0009).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("entries", sa.Column("message_permalink", sa.String(length=500),
                                       nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE entries DROP COLUMN message_permalink")
    else:
        op.drop_column("entries", "message_permalink")
