"""entries.tags as TEXT on PostgreSQL: no tag is cut off or refused for length

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 12:00:00

An entry holds up to 3,000 characters, so its distinct #tags can be longer than the
VARCHAR(1000) they were kept in: PostgreSQL refused such an entry. On PostgreSQL the column
becomes TEXT; the full-text column generated from it (0007) must go while its type
changes, and is re-created exactly as 0007 made it, with its GIN index. SQLite never
enforces a VARCHAR's length, so nothing changes there (re-creating `entries` would only
rebuild its full-text triggers for nothing); the model says so with a variant.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As 0007 wrote them: the generated search column depends on `tags`.
DROP_SEARCH = [
    "DROP INDEX IF EXISTS ix_entries_search_vector",
    "ALTER TABLE entries DROP COLUMN IF EXISTS search_vector",
]
CREATE_SEARCH = [
    """ALTER TABLE entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(tags, '')), 'A')
        || to_tsvector('english', coalesce(text, ''))
        || array_to_tsvector(ARRAY['@' || team_id, visibility || '@' || team_id,
                                   '#' || channel_id, '!' || author_id])) STORED""",
    "CREATE INDEX ix_entries_search_vector ON entries USING gin (search_vector)",
]


def _retype(to: sa.types.TypeEngine, using: str | None = None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DROP_SEARCH:
        op.execute(statement)
    op.alter_column("entries", "tags", type_=to, existing_nullable=False,
                    postgresql_using=using)
    for statement in CREATE_SEARCH:
        op.execute(statement)


def upgrade() -> None:
    _retype(sa.Text())


def downgrade() -> None:
    # Tags longer than the old column are cut to fit: the text they came from keeps them.
    _retype(sa.String(length=1000), using="left(tags, 1000)")
