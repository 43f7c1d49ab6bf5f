"""Run Alembic from code: `python -m bot` and the Procfile's release step both use this,
and readiness (GET /readyz) asks it whether a database is at the newest schema."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's ini parser treats % as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to the newest schema."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


@cache
def revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Every revision the migrations shipped with this code know, and the newest (the
    heads), read from the files' `revision` and `down_revision`. Not through Alembic:
    importing it costs each web worker 11 MB, only to answer /readyz."""
    known: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.AnnAssign | ast.Assign):
                target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
                if not isinstance(target, ast.Name) or node.value is None or \
                        target.id not in ("revision", "down_revision"):
                    continue
                value = ast.literal_eval(node.value)
                if target.id == "revision":
                    known.add(value)
                elif target.id == "down_revision" and value is not None:
                    parents.update([value] if isinstance(value, str) else value)
    return frozenset(known), frozenset(known - parents)


def schema_state(connection: Connection) -> str:
    """"current" when the database is at the newest migration this code ships;
    "behind" when it still needs `python -m bot migrate` (an empty one too); "unknown"
    when it carries a revision this code does not know (a newer release migrated it)."""
    known, heads = revisions()
    # Read the version table directly: Alembic's MigrationContext logs at INFO each
    # time, and readiness is asked every few seconds.
    current: set[str] = set()
    if inspect(connection).has_table(VERSION_TABLE):
        current = set(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
                      .scalars())
    if current == heads:
        return "current"
    return "behind" if current <= known else "unknown"
