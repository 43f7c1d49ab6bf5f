"""Uninstalling (PRODUCT.md §9): `app_uninstalled` / `tokens_revoked` delete the workspace's
tokens and its waiting posts at once; its data is erased after UNINSTALL_RETENTION_DAYS by
the clock, once however many clocks run; a reinstall before then finds it again."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.clock import erase_uninstalled
from bot.db.models import (
    BOTS_TABLE,
    INSTALLATIONS_TABLE,
    Base,
    Entry,
    OutboxMessage,
    Reflection,
    utcnow,
)
from bot.db.models import Workspace as WorkspaceRow
from tests.kit.bot_server import BotServer, bot_settings
from tests.kit.workspaces import install, oauth_settings, token_of
from tests.test_hope import reflect


@pytest.fixture
def oauth_bot(database_url, fake_slack):
    server = BotServer(oauth_settings(database_url, fake_slack.url))
    yield server
    server.stop()


def uninstall(bot, team: str | None, *, kind: str = "app_uninstalled", when: float | None = None,
              **org) -> None:
    event: dict[str, Any] = {"type": kind, "event_ts": f"{time.time():.6f}"}
    if kind == "tokens_revoked":
        event["tokens"] = {"oauth": [], "bot": ["UBOT0001"]}
    assert bot.slack.event(event, team=team, event_time=int(when or time.time()),
                           **org).status == 200


def rows(db, model, team: str) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)
                              .where(model.team_id == team))


def token_rows(db, team: str | None, enterprise: str | None = None) -> int:
    total = 0
    with db.engine.connect() as connection:
        for name in (BOTS_TABLE, INSTALLATIONS_TABLE):
            table = Base.metadata.tables[name]
            where = table.c.team_id == team if team else table.c.enterprise_id == enterprise
            total += connection.scalar(select(func.count()).select_from(table).where(where))
    return total


def workspace(db, team: str) -> WorkspaceRow | None:
    with db.session() as session:
        return session.get(WorkspaceRow, team)


@pytest.mark.parametrize("kind", ["app_uninstalled", "tokens_revoked"])
def test_an_uninstall_deletes_the_tokens_and_drops_the_waiting_posts_at_once(
        database_url, fake_slack, db, kind):
    server = BotServer(oauth_settings(database_url, fake_slack.url), start_worker=False)
    try:
        for team in ("T_A", "T_B"):
            install(server, fake_slack, team)
        gone = token_of(db, "T_A")
        server.slack.command("win waiting in A", team="T_A")
        server.slack.command("win waiting in B", team="T_B")
        uninstall(server, "T_A", kind=kind)
    finally:
        server.stop()
    assert token_rows(db, "T_A") == 0 and token_rows(db, "T_B") == 2
    assert rows(db, OutboxMessage, "T_A") == 0  # dropped, not failed or retried
    assert rows(db, Entry, "T_A") == 1  # kept until the retention is over
    row = workspace(db, "T_A")
    assert row.uninstalled_at is not None
    assert row.erase_after - row.uninstalled_at == timedelta(days=30)

    back = BotServer(oauth_settings(database_url, fake_slack.url))
    try:
        [post] = fake_slack.wait_for("chat.postMessage")
        back.settle()
    finally:
        back.stop()
    assert "waiting in B" in post.blocks_text()
    assert gone not in fake_slack.tokens_used("chat.postMessage")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_revoked_user_token_alone_uninstalls_nothing(oauth_bot, fake_slack, db):
    install(oauth_bot, fake_slack, "T_A")
    oauth_bot.slack.event({"type": "tokens_revoked", "tokens": {"oauth": ["U_INSTALLER"],
                                                                "bot": []}}, team="T_A")
    assert token_rows(db, "T_A") == 2 and workspace(db, "T_A").uninstalled_at is None


def test_a_post_queued_after_the_uninstall_is_dropped_not_sent(oauth_bot, fake_slack, db):
    """(A clock's reminder or digest may still queue one.) No call with its token."""
    install(oauth_bot, fake_slack, "T_A")
    token = token_of(db, "T_A")
    uninstall(oauth_bot, "T_A")
    since = len(fake_slack.calls)
    with db.session() as session:
        session.add(OutboxMessage(team_id="T_A", action="notify_user", channel_id="U_ALICE",
                                  user_id="U_ALICE", payload={"text": "late"}))
        session.commit()
    oauth_bot.runtime.worker.wake()
    oauth_bot.settle()
    assert rows(db, OutboxMessage, "T_A") == 0
    assert token not in [c.token for c in fake_slack.calls[since:]]


def test_a_reinstall_within_the_retention_finds_the_data_again(oauth_bot, fake_slack, db):
    install(oauth_bot, fake_slack, "T_A")
    oauth_bot.slack.command("lesson pin the base image", team="T_A")
    uninstall(oauth_bot, "T_A")
    answer = oauth_bot.slack.command("search base image", team="T_A")
    assert "Saved" not in answer.text and "base image" not in answer.text  # refused

    install(oauth_bot, fake_slack, "T_A", code="again")
    row = workspace(db, "T_A")
    assert row.uninstalled_at is None and row.erase_after is None
    found = oauth_bot.slack.command("search base image", team="T_A").text
    assert "pin the base image" in found
    # A late copy of the old uninstall (Slack retries for minutes) changes nothing now.
    uninstall(oauth_bot, "T_A", when=time.time() - 60)
    assert workspace(db, "T_A").uninstalled_at is None and token_rows(db, "T_A") == 2


def test_the_clock_erases_a_workspace_once_its_retention_is_over(oauth_bot, fake_slack, db):
    for team in ("T_A", "T_B"):
        install(oauth_bot, fake_slack, team)
        oauth_bot.slack.command(f"win marigold of {team}", team=team)
        oauth_bot.slack.command(f"card plan of {team}", team=team)
    oauth_bot.settle()
    uninstall(oauth_bot, "T_A")
    assert erase_uninstalled(oauth_bot.runtime) == 0  # 30 days to go
    assert rows(db, Entry, "T_A") == 1

    with db.session() as session:  # thirty days later
        session.execute(update(WorkspaceRow).values(
            erase_after=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert erase_uninstalled(oauth_bot.runtime) == 1
    assert erase_uninstalled(oauth_bot.runtime) == 0  # once
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if "team_id" in table.c:
                left = connection.scalar(select(func.count()).select_from(table)
                                         .where(table.c.team_id == "T_A"))
                assert left == 0, table.name
    assert workspace(db, "T_A") is None
    assert rows(db, Entry, "T_B") == 1 and workspace(db, "T_B").uninstalled_at is None
    # Installed again after that: a fresh start.
    install(oauth_bot, fake_slack, "T_A", code="new")
    assert "marigold of T_B" in oauth_bot.slack.command("search marigold", team="T_B").text
    found = oauth_bot.slack.command("search marigold", team="T_A").text
    assert found.startswith(":mag: Nothing found")


def test_an_org_wide_uninstall_takes_every_workspace_of_the_org(oauth_bot, fake_slack, db):
    install(oauth_bot, fake_slack, None, enterprise_id="E_ORG", org_install=True)
    install(oauth_bot, fake_slack, "T_ELSE")
    for team in ("T_ONE", "T_TWO"):
        oauth_bot.slack.command(f"win orchid in {team}", team=team, enterprise="E_ORG",
                                org_install=True)
    uninstall(oauth_bot, None, enterprise="E_ORG", org_install=True)
    assert token_rows(db, None, "E_ORG") == 0 and token_rows(db, "T_ELSE") == 2
    assert workspace(db, "T_ONE").uninstalled_at and workspace(db, "T_TWO").uninstalled_at
    assert workspace(db, "T_ELSE").uninstalled_at is None
    # Reinstalled to the org: its workspaces find their data again.
    install(oauth_bot, fake_slack, None, enterprise_id="E_ORG", org_install=True, code="again")
    assert workspace(db, "T_ONE").uninstalled_at is None
    found = oauth_bot.slack.command("search orchid", team="T_ONE", enterprise="E_ORG",
                                    org_install=True).text
    assert "orchid in T_ONE" in found and "T_TWO" not in found


def test_single_workspace_mode_stops_sending_after_an_uninstall(database_url, fake_slack, db):
    settings = bot_settings(database_url, fake_slack.url)
    server = BotServer(settings, start_worker=False)
    try:
        server.slack.command("win before the uninstall")
        reflect(server, fake_slack, {"hope_answer_1": "mine"})
        uninstall(server, "T0001")
    finally:
        server.stop()
    fake_slack.revoke(settings.bot_token)  # Slack revokes the token with the uninstall
    again = BotServer(settings)  # restarted with the old token: still uninstalled
    try:
        again.runtime.worker.wake()
        again.settle()
    finally:
        again.stop()
    assert fake_slack.calls_to("chat.postMessage") == []
    assert workspace(db, "T0001").uninstalled_at is not None
    assert rows(db, Reflection, "T0001") == 1  # kept for the retention
