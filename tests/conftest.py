"""Fixtures: a fake Slack, a migrated database per test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), and the real bot serving HTTP against both."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from bot.db import Database
from bot.db.migrate import upgrade
from tests.kit.bot_server import BotServer, bot_settings
from tests.kit.fake_slack import FakeSlack

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_slack(fake_slack_server: FakeSlack) -> FakeSlack:
    fake_slack_server.reset()
    return fake_slack_server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "debrief.db"
    upgrade(f"sqlite:///{path}")
    return path


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh, empty schema in the test database; dropped afterwards."""
    base = _psycopg_url(os.environ["TEST_DATABASE_URL"])
    schema = f"debrief_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test database, migrated once; dropped at the end."""
    with postgres_schema() as url:
        upgrade(url)
        yield url


def _psycopg_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "debrief.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as connection:
        # Every table the migrations made (the shared pace and Slack's installation store
        # too, which the models do not declare): a test never inherits another's rows.
        names = connection.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'")).all()
        tables = ", ".join(f'"{name}"' for name in names)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The same database the bot uses, for looking at what it stored."""
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def bot(database_url: str, fake_slack: FakeSlack) -> Iterator[BotServer]:
    server = BotServer(bot_settings(database_url, fake_slack.url))
    yield server
    server.stop()
