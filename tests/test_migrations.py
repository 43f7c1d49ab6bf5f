"""Migrations on databases that already hold data (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set): 0009's foreign keys repair what points nowhere, keep every row,
id and the full-text index, and hold from then on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, delete, inspect, text
from sqlalchemy.exc import IntegrityError

from bot.db import Database, fulltext
from bot.db.migrate import alembic_config, upgrade
from bot.db.models import Applause, Base, Card, Digest, Entry
from bot.services import search
from tests.conftest import BACKENDS, postgres_schema

T1, T2 = "T0001", "T0002"
WHEN = "2026-11-20 10:00:00.000000"  # a naive UTC timestamp, as both databases take it
FOREIGN_KEYS = {  # table: (column, referred table, ON DELETE)
    "entries": ("card_id", "cards", "SET NULL"),
    "applause": ("entry_id", "entries", "CASCADE"),
    "reflections": ("shared_entry_id", "entries", "SET NULL"),
    "digest_runs": ("digest_id", "digests", "CASCADE"),
}
TABLES = ["cards", "entries", "applause", "reflections", "digests", "digest_runs"]


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: no migration run yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with postgres_schema() as url:
        yield url


# --- the data a deployment at 0008 holds, written as plain SQL of that schema ---

def seed_0008(engine: Engine) -> None:
    """Rows at revision 0008, with a reference gone astray of each kind. On SQLite, entries
    3 and 5 are indexed and 8 and 13 still wait in entries_fts_pending."""
    rows: dict[str, list[dict[str, Any]]] = {
        "cards": [card(1, T1, "Checkout"), card(2, T1, "Billing")],
        "digests": [digest(1, T1, "C1"), digest(2, T2, "C9")],
        "reflections": [
            reflection(1, T1, "U1", shared=3),     # kept: U1's own lesson
            reflection(2, T1, "U1", shared=42),    # gone: NULL
            reflection(3, T1, "U2", shared=None),  # never shared
            reflection(4, T1, "U2", shared=8),     # entry 8 is U1's: the id was reused
        ],
        "digest_runs": [
            run(1, T1, digest_id=1, week="2026-W47"),  # kept
            run(2, T1, digest_id=5, week="2026-W46"),  # its digest was stopped: goes
            run(3, T2, digest_id=1, week="2026-W45"),  # digest 1 is T1's: goes
            run(4, T2, digest_id=2, week="2026-W47"),  # kept
        ],
        "applause": [
            applause(1, T1, "U2", author="U1", entry_id=3),   # kept
            applause(2, T1, "U1", author="U2", entry_id=5),   # kept
            applause(4, T1, "U2", author="U1", entry_id=99),  # its entry is gone: goes
            applause(6, T1, "U2", author="U1", entry_id=None),  # on a card: kept
            applause(7, T2, "U8", author="U9", entry_id=3),   # entry 3 is T1's: goes
        ],
    }
    with engine.begin() as connection:
        for table in ("cards", "digests", "digest_runs"):
            insert(connection, table, rows[table])
        insert(connection, "entries", [
            entry(3, T1, "U1", "Pin the base image #docker", card_id=1, tags="docker"),
            entry(5, T1, "U2", "Rotate the signing secret", card_id=77),  # card gone: NULL
        ])
        fulltext.catch_up(connection)  # SQLite: 3 and 5 indexed, as the worker would
        insert(connection, "entries", [
            entry(8, T1, "U1", "Renew the certificate", card_id=None),
            entry(13, T2, "U9", "Budget the migration window", card_id=2),  # T1's card
        ])
        insert(connection, "applause", rows["applause"])
        insert(connection, "reflections", rows["reflections"])


def insert(connection: Any, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    connection.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) "
                            f"VALUES ({', '.join(':' + c for c in columns)})"), rows)


def card(id: int, team: str, title: str) -> dict[str, Any]:
    return {"id": id, "team_id": team, "channel_id": "C1", "title": title, "opened_by": "U1",
            "status": "open", "message_ts": f"200.{id}", "revision": 0, "shown_revision": 0,
            "created_at": WHEN}


def entry(id: int, team: str, author: str, body: str, *, card_id: int | None,
          tags: str = "") -> dict[str, Any]:
    channel = "C1" if team == T1 else "C9"
    return {"id": id, "team_id": team, "channel_id": channel, "author_id": author,
            "kind": "lesson", "text": body, "visibility": "team", "anonymous": False,
            "source": "command", "created_at": WHEN, "message_channel_id": channel,
            "message_ts": f"100.{id}", "tags": tags, "card_id": card_id}


def applause(id: int, team: str, reactor: str, *, author: str,
             entry_id: int | None) -> dict[str, Any]:
    return {"id": id, "team_id": team, "channel_id": "C1", "message_ts": f"100.{id}",
            "reactor_id": reactor, "emoji": "clap", "author_id": author, "entry_id": entry_id,
            "anonymous": False, "reacted_ts": None, "created_at": WHEN}


def reflection(id: int, team: str, author: str, *, shared: int | None) -> dict[str, Any]:
    return {"id": id, "team_id": team, "author_id": author, "prompts": '["Happened"]',
            "answers": '["We shipped"]', "created_at": WHEN, "shared_entry_id": shared}


def digest(id: int, team: str, channel: str) -> dict[str, Any]:
    return {"id": id, "team_id": team, "channel_id": channel, "weekday": 4,
            "minute_of_day": 540, "timezone": "UTC", "next_run_at": WHEN, "created_by": "U1",
            "updated_at": WHEN}


def run(id: int, team: str, *, digest_id: int, week: str) -> dict[str, Any]:
    return {"id": id, "team_id": team, "digest_id": digest_id, "week": week,
            "period_start": WHEN, "period_end": WHEN, "claimed_at": WHEN}


# --- looking at it ---

def snapshot(engine: Engine) -> dict[str, dict[int, dict[str, Any]]]:
    """Every row of the tables 0009 touches, by id, as the database hands them back."""
    with engine.connect() as connection:
        return {table: {row["id"]: dict(row) for row in connection.execute(
                    text(f"SELECT * FROM {table} ORDER BY id")).mappings()}
                for table in TABLES}


def foreign_keys(engine: Engine) -> dict[str, tuple[str, str, str | None]]:
    engine.dispose()  # SQLite: a pooled connection may still hold the schema it read before
    found = {}
    inspector = inspect(engine)
    for table in FOREIGN_KEYS:
        for key in inspector.get_foreign_keys(table):
            found[table] = (key["constrained_columns"][0], key["referred_table"],
                            (key.get("options") or {}).get("ondelete"))
    return found


def sqlite_full_text(engine: Engine) -> dict[str, Any]:
    """The triggers' SQL, which ids are indexed and which wait: what must survive."""
    with engine.connect() as connection:
        return {
            "triggers": connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "ORDER BY name").all(),
            "indexed": connection.exec_driver_sql(
                f"SELECT id FROM {fulltext.FTS_TABLE}_docsize ORDER BY id").scalars().all(),
            "pending": connection.exec_driver_sql(
                f"SELECT id FROM {fulltext.PENDING_TABLE} ORDER BY id").scalars().all(),
        }


def index_is_whole(database: Database) -> None:
    """FTS5's own check (it raises), after catching up as bot/db/fulltext.py says."""
    if database.dialect != "sqlite":
        return
    database.index_pending()
    with database.engine.begin() as connection:
        connection.exec_driver_sql(f"INSERT INTO {fulltext.FTS_TABLE}({fulltext.FTS_TABLE}, "
                                   "rank) VALUES ('integrity-check', 1)")


def found(database: Database, team: str, user: str, channel: str, query: str) -> list[int]:
    with database.session() as session:
        ids = [e.id for e in search.search(session, search.Viewer(team, user, channel), query)]
        session.commit()  # SQLite: what the search indexed stays indexed
    return ids


def no_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": fulltext.include_object})
        assert compare_metadata(context, Base.metadata) == []


# --- the tests ---

def test_foreign_keys_arrive_on_a_database_that_holds_data(empty_url):
    upgrade(empty_url, "0008")
    engine = create_engine(empty_url)
    seed_0008(engine)
    before = snapshot(engine)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        full_text = sqlite_full_text(engine)
        assert (full_text["indexed"], full_text["pending"]) == ([3, 5], [8, 13])

    upgrade(empty_url, "0009")  # later migrations add columns: their tests check them

    after = snapshot(engine)
    # Each reference gone astray repaired by its ON DELETE rule: SET NULL, or the row goes.
    expected = before
    for entry_id in (5, 13):
        expected["entries"][entry_id]["card_id"] = None
    for applause_id in (4, 7):
        del expected["applause"][applause_id]
    for reflection_id in (2, 4):
        expected["reflections"][reflection_id]["shared_entry_id"] = None
    for run_id in (2, 3):
        del expected["digest_runs"][run_id]
    assert after == expected  # every other row, id and value as it was
    assert foreign_keys(engine) == {table: (column, referred, rule)
                                    for table, (column, referred, rule) in FOREIGN_KEYS.items()}
    upgrade(empty_url)
    no_drift(engine)  # the schema it made is the models' (indexes too)
    if sqlite:
        assert sqlite_full_text(engine) == full_text  # same triggers, index and waiting list
    engine.dispose()

    database = Database(empty_url)
    index_is_whole(database)
    assert found(database, T1, "U1", "C1", "base image") == [3]  # indexed before
    assert found(database, T1, "U1", "C1", "certificate") == [8]  # was waiting
    assert found(database, T2, "U9", "C9", "migration window") == [13]
    index_is_whole(database)
    database.dispose()


def test_the_foreign_keys_hold_after_the_migration(empty_url):
    upgrade(empty_url, "0008")
    engine = create_engine(empty_url)
    seed_0008(engine)
    engine.dispose()
    upgrade(empty_url)
    database = Database(empty_url)
    with database.session() as session:
        session.execute(delete(Card).where(Card.id == 1))
        session.commit()
        assert session.get(Entry, 3).card_id is None  # the entry stays, off the card
        session.execute(delete(Entry).where(Entry.id == 3))
        session.commit()
        assert sorted(session.scalars(text("SELECT id FROM applause"))) == [2, 6]
        assert session.scalar(text("SELECT shared_entry_id FROM reflections WHERE id = 1")) \
            is None
        session.execute(delete(Digest).where(Digest.id == 1))
        session.commit()
        assert sorted(session.scalars(text("SELECT id FROM digest_runs"))) == [4]
        session.add(Applause(id=50, team_id=T1, channel_id="C1", message_ts="1.1",
                             reactor_id="U2", emoji="clap", author_id="U1", entry_id=4242))
        with pytest.raises(IntegrityError, match="(?i)foreign key"):
            session.commit()
    index_is_whole(database)  # entry 3 left the index with its row
    database.dispose()


def test_the_migration_goes_down_and_up_again(empty_url):
    upgrade(empty_url, "0008")
    engine = create_engine(empty_url)
    seed_0008(engine)
    sqlite = engine.dialect.name == "sqlite"
    full_text = sqlite_full_text(engine) if sqlite else None
    upgrade(empty_url)
    command.downgrade(alembic_config(empty_url), "0009")  # down through later ones too
    at_0009 = snapshot(engine)

    command.downgrade(alembic_config(empty_url), "0008")
    assert foreign_keys(engine) == {}
    assert snapshot(engine) == at_0009  # repaired references stay repaired
    if sqlite:
        assert sqlite_full_text(engine) == full_text

    upgrade(empty_url, "0009")
    assert set(foreign_keys(engine)) == set(FOREIGN_KEYS)
    assert snapshot(engine) == at_0009
    upgrade(empty_url)
    no_drift(engine)
    engine.dispose()
    database = Database(empty_url)
    index_is_whole(database)
    assert found(database, T1, "U1", "C1", "signing secret") == [5]
    database.dispose()


def test_sqlite_keeps_foreign_keys_on_through_the_migration(tmp_path):
    # The migration must not turn enforcement off on the connection it runs on.
    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url, "0008")
    database = Database(url)
    with database.engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_0015_adds_and_drops_its_columns_without_touching_cards_or_entries(empty_url):
    upgrade(empty_url, "0008")
    engine = create_engine(empty_url)
    seed_0008(engine)
    upgrade(empty_url, "0013")  # the revision before this one
    before = snapshot(engine)
    assert any(row["card_id"] for row in before["entries"].values())  # entries on cards

    upgrade(empty_url, "0015")
    after = snapshot(engine)
    assert {row.pop("nudge_days") for row in after["cards"].values()} == {None}
    assert after == before  # every row and id as it was; no entry left its card
    upgrade(empty_url)
    no_drift(engine)

    command.downgrade(alembic_config(empty_url), "0013")
    assert snapshot(engine) == before  # cards kept, and so did the entries on them
    assert "card_collaborators" not in inspect(engine).get_table_names()
    upgrade(empty_url)
    no_drift(engine)
    engine.dispose()
