"""card_collaborators.tz_name: a collaborator's Slack time zone, for their nudges

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-01 13:00:00

A nullable column, added in place on both databases. Rows from before keep a NULL: the
nudge clock asks Slack for their zone the first time one of them falls due, and plans it
again in that zone (bot/services/nudges.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("card_collaborators", sa.Column("tz_name", sa.String(length=64),
                                                  nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE card_collaborators DROP COLUMN tz_name")
    else:
        op.drop_column("card_collaborators", "tz_name")
