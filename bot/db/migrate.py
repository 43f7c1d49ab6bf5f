"""Run Alembic from code: `python -m bot` and the Procfile's release step both use this,
and readiness (GET /readyz) asks it whether a database is at the newest schema."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's ini parser treats % as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to the newest schema."""
    command.upgrade(alembic_config(url), revision)


@cache
def _scripts() -> ScriptDirectory:
    # Read once: the migrations shipped with this code do not change while it runs.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def schema_state(connection: Connection) -> str:
    """"current" when the database is at the newest migration this code ships;
    "behind" when it still needs `python -m bot migrate` (an empty one too); "unknown"
    when it carries a revision this code does not know (a newer release migrated it)."""
    scripts = _scripts()
    # Read the version table directly: Alembic's MigrationContext logs at INFO each
    # time, and readiness is asked every few seconds.
    heads: set[str] = set()
    if inspect(connection).has_table(VERSION_TABLE):
        heads = set(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
                    .scalars())
    if heads == set(scripts.get_heads()):
        return "current"
    known = {script.revision for script in scripts.walk_revisions()}
    return "behind" if heads <= known else "unknown"
