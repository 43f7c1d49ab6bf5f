"""Many workspaces in one database (PRODUCT.md §9): each request and each waiting post uses
its own workspace's token, found by team AND enterprise; org-wide installs; rotating
tokens refreshed at SLACK_API_URL; the lookup cached; events deduplicated per workspace."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from bot.db.models import BOTS_TABLE, Applause, Base, Entry
from bot.db.models import Workspace as WorkspaceRow
from tests.kit.bot_server import BotServer
from tests.kit.slack_requests import reaction
from tests.kit.workspaces import install, oauth_settings, token_of


@pytest.fixture
def oauth_bot(database_url, fake_slack):
    server = BotServer(oauth_settings(database_url, fake_slack.url))
    yield server
    server.stop()


def posts(fake_slack, text: str):
    return [c for c in fake_slack.calls_to("chat.postMessage") if text in c.blocks_text()]


def entry_texts(db, team_id: str) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Entry.text).where(Entry.team_id == team_id)
                                    .order_by(Entry.id)))


def test_each_workspace_is_answered_and_posted_to_with_its_own_token(oauth_bot, fake_slack,
                                                                      db):
    for team in ("T_A", "T_B", "T_C"):
        install(oauth_bot, fake_slack, team)
    tokens = {team: token_of(db, team) for team in ("T_A", "T_B", "T_C")}
    assert len(set(tokens.values())) == 3
    for team in tokens:
        assert "Saved your win" in oauth_bot.slack.command(f"win from {team}", team=team).text
    oauth_bot.settle()
    for team, token in tokens.items():
        [post] = posts(fake_slack, f"from {team}")
        assert post.token == token and post.ok
        assert entry_texts(db, team) == [f"from {team}"]


def test_a_grid_workspace_is_found_by_team_and_enterprise(database_url, fake_slack, db):
    """The install lives under (enterprise, team): a lookup by team alone never finds it.
    Its posts go out with its token, also after a restart with the post still waiting."""
    first = BotServer(oauth_settings(database_url, fake_slack.url), start_worker=False)
    try:
        install(first, fake_slack, "T_GRID", enterprise_id="E_ORG", enterprise_name="Org")
        answer = first.slack.command("win in the grid", team="T_GRID", enterprise="E_ORG")
        assert "Saved your win" in answer.text
    finally:
        first.stop()  # before the worker sent anything
    with db.session() as session:
        row = session.get(WorkspaceRow, "T_GRID")
        assert (row.enterprise_id, row.org_install) == ("E_ORG", False)

    second = BotServer(oauth_settings(database_url, fake_slack.url))
    try:
        [post] = fake_slack.wait_for("chat.postMessage")
        second.settle()
    finally:
        second.stop()
    assert post.ok and post.token == token_of(db, "T_GRID", "E_ORG")
    assert "in the grid" in post.blocks_text()


def test_an_org_wide_install_serves_each_workspace_of_the_org_apart(oauth_bot, fake_slack, db):
    page = install(oauth_bot, fake_slack, None, enterprise_id="E_ORG",
                   enterprise_name="Starship", org_install=True)
    assert "Debrief is installed in Starship" in page.text
    assert "Choose its workspaces" in page.text  # an org admin adds it to workspaces
    org_token = token_of(db, None, "E_ORG")
    for team in ("T_ONE", "T_TWO"):
        answer = oauth_bot.slack.command(f"lesson secret of {team}", team=team,
                                         enterprise="E_ORG", org_install=True)
        assert "Saved your lesson" in answer.text, answer.text
    oauth_bot.settle()
    for team in ("T_ONE", "T_TWO"):
        [post] = posts(fake_slack, f"secret of {team}")
        # The org's token, naming the workspace (Slack asks that of org-wide tokens).
        assert post.token == org_token and post.body.get("team_id") == team
        assert entry_texts(db, team) == [f"secret of {team}"]
    with db.session() as session:
        assert session.get(WorkspaceRow, "T_ONE").org_install
    found = oauth_bot.slack.command("search secret", team="T_TWO", enterprise="E_ORG",
                                    org_install=True).text
    assert "secret of T_TWO" in found and "T_ONE" not in found
    # A reaction in one workspace of the org counts there (the event names no team in
    # its authorizations: the install is the org's).
    [post] = posts(fake_slack, "secret of T_ONE")
    oauth_bot.slack.event(reaction("reaction_added", user="U_BOB", channel=post.body["channel"],
                                   ts=post.response["ts"]),
                          team="T_ONE", enterprise="E_ORG", org_install=True)
    with db.session() as session:
        assert [(a.team_id, a.reactor_id) for a in session.scalars(select(Applause))] == \
            [("T_ONE", "U_BOB")]


def test_the_same_event_id_in_two_workspaces_is_two_events(oauth_bot, fake_slack, db):
    for team in ("T_A", "T_B"):
        install(oauth_bot, fake_slack, team)
        oauth_bot.slack.command(f"win posted in {team}", team=team)
    oauth_bot.settle()
    for team in ("T_A", "T_B"):
        [post] = posts(fake_slack, f"posted in {team}")
        clap = reaction("reaction_added", user="U_BOB", channel=post.body["channel"],
                        ts=post.response["ts"])
        for _ in range(2):  # Slack's retry of the same delivery: once per workspace
            assert oauth_bot.slack.event(clap, event_id="EvSAME", team=team).status == 200
    with db.session() as session:
        assert sorted(a.team_id for a in session.scalars(select(Applause))) == ["T_A", "T_B"]


def test_the_installation_lookup_is_cached(oauth_bot, fake_slack, db):
    install(oauth_bot, fake_slack, "T_A")
    lookups: list[str] = []

    def seen(conn, cursor, statement, *args):
        if BOTS_TABLE in statement:
            lookups.append(statement)

    engine = oauth_bot.runtime.db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for n in range(5):
            assert "Saved" in oauth_bot.slack.command(f"win number {n}", team="T_A",
                                                      channel=f"C_{n}").text
        oauth_bot.settle()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(lookups) <= 1, lookups  # requests and posts alike
    assert len(fake_slack.succeeded("chat.postMessage")) == 5


def expire_soon(db, minutes: float) -> None:
    """Time passes: the stored token now expires in `minutes` (negative: it has)."""
    bots = Base.metadata.tables[BOTS_TABLE]
    when = (datetime.now(UTC) + timedelta(minutes=minutes)).replace(tzinfo=None)
    with db.engine.begin() as connection:
        connection.execute(update(bots).values(bot_token_expires_at=when))


def test_a_rotating_token_is_refreshed_before_it_expires(oauth_bot, fake_slack, db):
    install(oauth_bot, fake_slack, "T_ROT", rotating=True)
    first = token_of(db, "T_ROT")
    assert first.startswith("xoxe.xoxb-")
    oauth_bot.slack.command("win before", team="T_ROT")
    oauth_bot.settle()
    assert fake_slack.calls_to("oauth.v2.access")[1:] == []  # fresh: no refresh yet

    expire_soon(db, 60)  # an hour left: within the two hours before expiry
    oauth_bot.runtime.clients.identity.forget()  # (the cache would hold it 30 s more)
    assert "Saved" in oauth_bot.slack.command("win after", team="T_ROT").text
    oauth_bot.settle()
    [refresh] = fake_slack.calls_to("oauth.v2.access")[1:]
    assert refresh.path == "/api/oauth.v2.access"  # at SLACK_API_URL
    assert refresh.body["grant_type"] == "refresh_token"
    second = token_of(db, "T_ROT")
    assert second != first
    [post] = posts(fake_slack, "after")
    assert post.token == second and post.ok


def test_a_post_that_waited_past_its_tokens_life_goes_out_with_a_fresh_one(
        database_url, fake_slack, db):
    down = BotServer(oauth_settings(database_url, fake_slack.url), start_worker=False)
    try:
        install(down, fake_slack, "T_ROT", rotating=True)
        old = token_of(db, "T_ROT")
        assert "Saved" in down.slack.command("win waited all night", team="T_ROT").text
    finally:
        down.stop()
    # Thirteen hours later: the token has expired, at Slack too.
    expire_soon(db, -60)
    fake_slack.grants[old].expires_at = time.time() - 3600

    up = BotServer(oauth_settings(database_url, fake_slack.url))
    try:
        [post] = fake_slack.wait_for("chat.postMessage")
        up.settle()
    finally:
        up.stop()
    assert post.ok and post.token == token_of(db, "T_ROT") != old
    assert old not in fake_slack.tokens_used("chat.postMessage")


def test_the_manifest_subscribes_to_the_events_the_app_answers(oauth_bot, fake_slack):
    """Bolt answers 404 to an event nobody listens to (and Slack retries it)."""
    from tests.test_running import manifest

    events = manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    install(oauth_bot, fake_slack, "T_A")
    for name in sorted(events, key=lambda e: e in ("app_uninstalled", "tokens_revoked")):
        event = {"type": name, "user": "U_ALICE", "tab": "home", "reaction": "tada",
                 "item": {"type": "message", "channel": "C1", "ts": "1.1"},
                 "tokens": {"bot": []}, "event_ts": "1.000001"}
        assert oauth_bot.slack.event(event, team="T_A").status == 200, name


def test_one_workspaces_refused_token_never_holds_back_another(oauth_bot, fake_slack, db):
    for team in ("T_A", "T_B"):
        install(oauth_bot, fake_slack, team)
    fake_slack.revoke(token_of(db, "T_B"))  # B's token stopped working (no event yet)
    oauth_bot.slack.command("win of B", team="T_B", channel="C_B")
    oauth_bot.slack.command("win of A", team="T_A", channel="C_A")
    oauth_bot.settle()
    [a_post] = posts(fake_slack, "of A")
    assert a_post.ok and a_post.token == token_of(db, "T_A")
    assert [p.ok for p in posts(fake_slack, "of B")] == [False]  # refused for good, once


def test_listeners_take_the_workspace_from_the_authorization_only():
    """Never a payload field a client could choose (a person's home team in a shared
    channel, private_metadata…): `workspace(context)` (bot/listeners/unit.py)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "bot" / "listeners"
    forbidden = re.compile(r'body\["team"\]|body\.get\("team"\)|command\["team_id"\]|'
                           r'body\.get\("team_id"|\["user"\]\["team_id"\]|'
                           r'context\.team_id or')
    found = [f"{path.name}:{n}" for path in root.glob("*.py")
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if forbidden.search(line)]
    assert found == []
