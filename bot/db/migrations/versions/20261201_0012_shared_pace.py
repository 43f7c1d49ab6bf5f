"""the shared pace: one row per channel (or workspace method) that Slack calls are
paced on, so that several processes on one PostgreSQL keep one pace

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-01 12:00:00

The table exists on SQLite too (the models are the same everywhere); SQLite's one
process paces in memory and leaves it empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pace",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pace")),
    )


def downgrade() -> None:
    op.drop_table("pace")
