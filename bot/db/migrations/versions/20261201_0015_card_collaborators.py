"""card collaborators, nudges and their periods

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-01 09:00:00

`card_collaborators`: who a card asks for their debrief, and when each is nudged next
(indexed: the clock reads only the due ones). `nudge_mutes`: people who want no nudges
at all. `cards.nudge_days` and `channel_settings.nudge_days`: how long a collaborator may
add nothing before the nudge (NULL: the channel's, then a week). `entries (team_id, id)`:
a workspace's newest entries, where the look back's any-word search starts
(bot/db/fulltext.py).

The two new columns are added and dropped with plain ALTER TABLE on both databases, never
by re-creating the table (batch mode): dropping the old `cards` with foreign keys on would
delete its rows first, and that would take every entry off its card (ON DELETE SET NULL).
SQLite has DROP COLUMN since 3.35.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The models' UTCDateTime columns are plain DateTime in the database (naive UTC).


def upgrade() -> None:
    op.create_table(
        "nudge_mutes",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("muted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_nudge_mutes")),
    )
    op.create_table(
        "card_collaborators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("active_at", sa.DateTime(), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("next_nudge_at", sa.DateTime(), nullable=True),
        sa.Column("nudged_at", sa.DateTime(), nullable=True),
        sa.Column("asked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"],
                                name=op.f("fk_card_collaborators_card_id_cards"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_collaborators")),
        sa.UniqueConstraint("card_id", "user_id",
                            name=op.f("uq_card_collaborators_card_id_user_id")),
    )
    op.create_index(op.f("ix_card_collaborators_next_nudge_at"), "card_collaborators",
                    ["next_nudge_at"], unique=False)
    op.create_index(op.f("ix_card_collaborators_team_id_user_id"), "card_collaborators",
                    ["team_id", "user_id"], unique=False)
    op.add_column("cards", sa.Column("nudge_days", sa.Integer(), nullable=True))
    op.add_column("channel_settings", sa.Column("nudge_days", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_entries_team_id_id"), "entries", ["team_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_entries_team_id_id"), table_name="entries")
    # Not batch mode: see the docstring.
    op.execute("ALTER TABLE channel_settings DROP COLUMN nudge_days")
    op.execute("ALTER TABLE cards DROP COLUMN nudge_days")
    op.drop_index(op.f("ix_card_collaborators_team_id_user_id"), table_name="card_collaborators")
    op.drop_index(op.f("ix_card_collaborators_next_nudge_at"), table_name="card_collaborators")
    op.drop_table("card_collaborators")
    op.drop_table("nudge_mutes")
