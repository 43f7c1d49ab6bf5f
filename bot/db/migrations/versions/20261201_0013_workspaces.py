"""workspaces: how to find each workspace's token, and when an uninstalled one is erased

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-01 12:00:00

`workspaces` names every workspace the bot serves with its enterprise (a Grid install is
found by team AND enterprise; an org-wide one by the enterprise alone), and, once it
uninstalled the app, when its data is erased. Workspaces installed through OAuth so far
are filled in from slack_bots; the others are added when they are next seen.

slack_sdk's token columns grow from 200 to 1000 characters: a token sealed with Fernet
(TOKEN_ENCRYPTION_KEY) is about twice as long as the token, and rotating tokens are long.
On SQLite batch mode re-creates the two tables (nothing refers to them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKEN_COLUMNS = {
    "slack_installations": ["bot_token", "bot_refresh_token", "user_token",
                            "user_refresh_token"],
    "slack_bots": ["bot_token", "bot_refresh_token"],
}


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("org_install", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(), nullable=True),
        sa.Column("erase_after", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_workspaces")),
    )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workspaces_enterprise_id"), ["enterprise_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_workspaces_erase_after"), ["erase_after"],
                              unique=False)
    # One row per workspace installed so far: its newest bot's enterprise.
    op.execute("""
        INSERT INTO workspaces (team_id, enterprise_id, org_install, installed_at)
        SELECT b.team_id, max(b.enterprise_id), false, max(b.installed_at)
        FROM slack_bots b
        WHERE b.team_id IS NOT NULL AND NOT b.is_enterprise_install
        GROUP BY b.team_id""")
    for table, columns in TOKEN_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.String(length=200),
                                      type_=sa.String(length=1000), existing_nullable=True)


def downgrade() -> None:
    for table, columns in TOKEN_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                # A sealed token longer than 200 would not fit: shortening fails loudly on
                # PostgreSQL rather than cut a token (decrypt them first: README).
                batch_op.alter_column(column, existing_type=sa.String(length=1000),
                                      type_=sa.String(length=200), existing_nullable=True)
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workspaces_erase_after"))
        batch_op.drop_index(batch_op.f("ix_workspaces_enterprise_id"))
    op.drop_table("workspaces")
