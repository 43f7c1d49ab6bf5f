"""full-text indexing after the commit (SQLite)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 12:20:00
"""

from collections.abc import Sequence

from alembic import op

from bot.db import fulltext

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite only: PostgreSQL's index is a generated column (bot/db/fulltext.py).
    if op.get_bind().dialect.name == "sqlite":
        for statement in fulltext.SQLITE_DEFER:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in fulltext.SQLITE_UNDEFER:
            op.execute(statement)
