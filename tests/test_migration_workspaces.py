"""Migration 0013 on databases that hold installs (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set): the workspaces installed so far are recorded with their
enterprise, the tokens are kept, longer (sealed) tokens fit, and it goes down and up."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from bot.db.migrate import alembic_config, upgrade
from tests import test_migrations
from tests.test_migrations import WHEN, insert

empty_url = test_migrations.empty_url  # the fixture: an empty database on each backend


def bot(id: int, team: str | None, enterprise: str | None, *, org: bool = False,
        token: str = "xoxb-1") -> dict[str, object]:
    return {"id": id, "client_id": "1111.2222", "app_id": "A0001", "enterprise_id": enterprise,
            "team_id": team, "bot_token": token, "bot_id": "B1", "bot_user_id": "U1",
            "is_enterprise_install": org, "installed_at": WHEN}


def test_0013_records_the_installed_workspaces_and_keeps_their_tokens(empty_url):
    upgrade(empty_url, "0009")
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        insert(connection, "slack_bots", [
            bot(1, "T_PLAIN", None, token="xoxb-plain"),
            bot(2, "T_GRID", "E_ORG", token="xoxb-grid"),
            bot(3, None, "E_ORG", org=True, token="xoxb-org"),  # org-wide: learned later
            bot(4, "T_PLAIN", None, token="xoxb-plain-again"),  # reinstalled: one row
        ])
    upgrade(empty_url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT team_id, enterprise_id, org_install, uninstalled_at FROM workspaces "
            "ORDER BY team_id")).all()
        tokens = connection.execute(text("SELECT bot_token FROM slack_bots ORDER BY id")
                                    ).scalars().all()
    assert [tuple(r) for r in rows] == [("T_GRID", "E_ORG", False, None),
                                        ("T_PLAIN", None, False, None)]
    assert tokens == ["xoxb-plain", "xoxb-grid", "xoxb-org", "xoxb-plain-again"]
    with engine.begin() as connection:  # a sealed rotating token is about 300 long
        connection.execute(text("UPDATE slack_bots SET bot_token = :t WHERE id = 1"),
                           {"t": "g" * 400})

    with engine.begin() as connection:  # going down needs tokens that fit 200 again
        connection.execute(text("UPDATE slack_bots SET bot_token = 'xoxb-plain' "
                                "WHERE id = 1"))
    command.downgrade(alembic_config(empty_url), "0009")
    with engine.connect() as connection:
        names = engine.dialect.get_table_names(connection)
    assert "workspaces" not in names
    upgrade(empty_url)
    engine.dispose()
