"""Installing through OAuth (PRODUCT.md §9): "Add to Slack", the code exchange at
SLACK_API_URL, what is stored, and every way an install can fail storing nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from sqlalchemy import func, select, update

from bot.app import BOT_SCOPES
from bot.db.models import BOTS_TABLE, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE, Base, utcnow
from bot.db.models import Workspace as WorkspaceRow
from tests.kit.bot_server import BotServer
from tests.kit.workspaces import CLIENT_ID, Browser, install, oauth_settings, start_install


@pytest.fixture
def oauth_bot(database_url, fake_slack):
    server = BotServer(oauth_settings(database_url, fake_slack.url))
    yield server
    server.stop()


def count(db, table_name: str) -> int:
    table = Base.metadata.tables[table_name]
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table))


def nothing_installed(db) -> bool:
    return count(db, BOTS_TABLE) == 0 and count(db, INSTALLATIONS_TABLE) == 0


def test_add_to_slack_links_to_slacks_authorize_page_with_the_scopes_and_a_state(
        oauth_bot, db):
    browser, page, state = start_install(oauth_bot.url)
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Learn from your work, together" in page.text and "Add to Slack" in page.text
    url = urlparse(page.link("add-to-slack"))
    assert (url.netloc, url.path) == ("slack.com", "/oauth/v2/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == [CLIENT_ID]
    assert sorted(query["scope"][0].split(",")) == sorted(BOT_SCOPES)
    assert browser.cookies["slack-app-oauth-state"] == state  # this browser, this state
    assert count(db, OAUTH_STATES_TABLE) == 1
    # Each visit is a new one-time state.
    assert start_install(oauth_bot.url)[2] != state


def test_the_way_back_exchanges_the_code_at_slack_api_url_and_stores_the_install(
        oauth_bot, fake_slack, db):
    page = install(oauth_bot, fake_slack, "T_ACME", team_name="Acme & Co <script>")
    assert "Debrief is installed in Acme & Co <script>" in page.text
    assert "<script>" not in page.html  # the name is escaped
    assert page.link("open-slack") == "https://slack.com/app_redirect?app=A0001&team=T_ACME"
    [exchange] = fake_slack.calls_to("oauth.v2.access")
    assert exchange.path == "/api/oauth.v2.access" and exchange.body["code"] == "code-T_ACME"
    with db.session() as session:
        assert session.get(WorkspaceRow, "T_ACME").uninstalled_at is None
    assert count(db, BOTS_TABLE) == 1 and count(db, INSTALLATIONS_TABLE) == 1
    # And the workspace is served with its own token.
    assert "Saved your win" in oauth_bot.slack.command("win installed", team="T_ACME").text
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post.token and post.token.startswith("xoxb-T_ACME")


def test_a_state_works_once(oauth_bot, fake_slack, db):
    browser, _, state = start_install(oauth_bot.url)
    fake_slack.install_code("c1", "T_ONE")
    fake_slack.install_code("c2", "T_TWO")
    cookie = dict(browser.cookies)
    assert browser.get("/slack/oauth_redirect?" + urlencode(
        {"code": "c1", "state": state})).status == 200
    browser.cookies = cookie  # even with the cookie kept, the state is spent
    again = browser.get("/slack/oauth_redirect?" + urlencode({"code": "c2", "state": state}))
    assert again.status == 400
    assert "This install link has expired" in again.text and "Start again" in again.text
    assert again.link("start-again") == "/slack/install"
    with db.session() as session:
        assert session.get(WorkspaceRow, "T_TWO") is None
    assert count(db, BOTS_TABLE) == 1


@pytest.mark.parametrize("how", ["missing state", "unknown state", "another browser",
                                 "expired state"])
def test_a_missing_unknown_or_expired_state_stores_nothing(oauth_bot, fake_slack, db, how):
    browser, _, state = start_install(oauth_bot.url)
    fake_slack.install_code("code", "T_ACME")
    query = {"code": "code", "state": state}
    if how == "missing state":
        del query["state"]
    elif how == "unknown state":
        browser.cookies["slack-app-oauth-state"] = query["state"] = "made-up"
    elif how == "another browser":
        browser = Browser(oauth_bot.url)
    else:
        states = Base.metadata.tables[OAUTH_STATES_TABLE]
        with db.engine.begin() as connection:
            connection.execute(update(states).values(
                expire_at=(utcnow() - timedelta(seconds=1)).replace(tzinfo=None)))
    page = browser.get("/slack/oauth_redirect?" + urlencode(query))
    assert page.status == 400, page.text
    assert "This install link has expired" in page.text
    assert "Traceback" not in page.html
    assert fake_slack.calls_to("oauth.v2.access") == []  # the code was never used
    assert nothing_installed(db)


def test_a_cancelled_install_says_so_and_stores_nothing(oauth_bot, fake_slack, db):
    browser, _, state = start_install(oauth_bot.url)
    page = browser.get("/slack/oauth_redirect?" + urlencode(
        {"error": "access_denied", "state": state}))
    assert page.status == 403
    assert "Debrief was not installed" in page.text and "cancelled" in page.text
    assert nothing_installed(db)


def test_a_code_slack_refuses_stores_nothing(oauth_bot, fake_slack, db):
    browser, _, state = start_install(oauth_bot.url)
    page = browser.get("/slack/oauth_redirect?" + urlencode(
        {"code": "never-issued", "state": state}))
    assert page.status == 400
    assert "Slack did not confirm the install" in page.text
    assert fake_slack.calls_to("oauth.v2.access")[0].body["code"] == "never-issued"
    assert nothing_installed(db)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(WorkspaceRow)) == 0


def test_a_workspace_without_an_install_is_told_and_nothing_is_saved(oauth_bot, fake_slack,
                                                                      db):
    answer = oauth_bot.slack.command("win lost?", team="T_NOWHERE")
    assert "Saved" not in answer.text
    [told] = fake_slack.wait_for("response_url")
    assert "not installed in this workspace" in told.body["text"]
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM entries").scalar() == 0


@pytest.mark.parametrize("token", [None, "xoxb-left-over"])
def test_a_bot_token_left_set_beside_oauth_is_named_as_ignored(
        token, database_url, fake_slack, caplog):
    # With OAuth each workspace's own token is used: a SLACK_BOT_TOKEN is a mistake to
    # point out (Bolt's own notice of it is dropped for the single-workspace case).
    server = BotServer(replace(oauth_settings(database_url, fake_slack.url), bot_token=token))
    server.stop()
    told = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("SLACK_BOT_TOKEN is set" in m and "ignored" in m for m in told) == bool(token)
