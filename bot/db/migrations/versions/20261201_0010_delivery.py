"""outbox: a claim's token, faults counted apart, and sends whose outcome is unknown

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: nothing else about the table changes, so SQLite
    # need not re-create it (and outbox rows waiting to be sent stay as they are).
    op.add_column("outbox", sa.Column("faults", sa.Integer(), server_default="0",
                                      nullable=False))
    op.add_column("outbox", sa.Column("claim", sa.String(length=32), nullable=True))
    op.add_column("outbox", sa.Column("unsure_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("unsure_since")
        batch.drop_column("claim")
        batch.drop_column("faults")
