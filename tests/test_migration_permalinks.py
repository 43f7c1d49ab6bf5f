"""Migration 0016 (entries.message_permalink) on databases that hold data, SQLite and
PostgreSQL: every row, id, reference and the full-text index survive, up and down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from bot.db import Database
from bot.db.migrate import alembic_config, upgrade
from tests.test_migrations import (  # noqa: F401 (empty_url is a fixture)
    FOREIGN_KEYS,
    T1,
    empty_url,
    foreign_keys,
    found,
    index_is_whole,
    no_drift,
    seed_0008,
    snapshot,
    sqlite_full_text,
)


def test_permalinks_arrive_and_leave_keeping_everything(empty_url):  # noqa: F811
    upgrade(empty_url, "0008")
    engine = create_engine(empty_url)
    seed_0008(engine)
    upgrade(empty_url, "0015")  # the revision before this one
    sqlite = engine.dialect.name == "sqlite"
    before = snapshot(engine)
    full_text = sqlite_full_text(engine) if sqlite else None

    upgrade(empty_url, "0016")
    after = snapshot(engine)
    assert all(row.pop("message_permalink") is None for row in after["entries"].values())
    assert after == before  # nothing else changed, ids included
    assert set(foreign_keys(engine)) == set(FOREIGN_KEYS)
    if sqlite:
        assert sqlite_full_text(engine) == full_text  # triggers, index, waiting list
    # No drift is checked at the head, below: later migrations follow 0016.

    with engine.begin() as connection:  # a link kept, then going down
        connection.execute(text("UPDATE entries SET message_permalink = "
                                "'https://t.slack.com/archives/C1/p1003' WHERE id = 3"))
    command.downgrade(alembic_config(empty_url), "0015")
    assert snapshot(engine) == before  # applause kept: nothing cascaded
    assert set(foreign_keys(engine)) == set(FOREIGN_KEYS)
    if sqlite:
        assert sqlite_full_text(engine) == full_text
    upgrade(empty_url)
    no_drift(engine)
    engine.dispose()

    database = Database(empty_url)
    index_is_whole(database)
    assert found(database, T1, "U1", "C1", "base image") == [3]
    assert found(database, T1, "U1", "C1", "certificate") == [8]
    database.dispose()
