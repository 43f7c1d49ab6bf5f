"""Service tests use the `db` fixture of tests/conftest.py: a fresh, migrated database per
test, SQLite and (with TEST_DATABASE_URL) PostgreSQL. Only the PostgreSQL reset differs:
emptying the few rows a service test writes with DELETE takes a few milliseconds, where
TRUNCATE of every table takes about a tenth of a second, and these tests are many."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from bot.db.models import Base
from tests.conftest import BACKENDS


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "debrief.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    engine: Engine = request.getfixturevalue("postgres_engine")
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return request.getfixturevalue("postgres_url")
