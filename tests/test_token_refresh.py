"""Rotating tokens with several processes on one database (two web workers, web and clock):
Slack takes a refresh token once, so the process that loses the race finds the winner's
token stored and goes on serving with it. And every refresh is counted in /metrics."""

from __future__ import annotations

import time
from typing import Any

from bot.metrics import SLACK_CALLS
from tests.kit.bot_server import BotServer
from tests.kit.fake_slack import Call
from tests.kit.workspaces import install, oauth_settings, token_of
from tests.test_workspaces import expire_soon, posts


def refreshes(fake_slack) -> list[Call]:
    return [c for c in fake_slack.calls_to("oauth.v2.access")
            if c.body.get("grant_type") == "refresh_token"]


def test_two_processes_refreshing_one_token_both_go_on_serving(database_url, fake_slack, db):
    fake_slack.refresh_once = True  # a refresh token works once, as Slack's do
    web = BotServer(oauth_settings(database_url, fake_slack.url))
    clock = BotServer(oauth_settings(database_url, fake_slack.url))
    try:
        install(web, fake_slack, "T_ROT", rotating=True)
        old = token_of(db, "T_ROT")
        # Thirteen hours later: the token has expired, at Slack too.
        expire_soon(db, -60)
        fake_slack.grants[old].expires_at = time.time() - 3600
        for process in (web, clock):
            process.runtime.clients.identity.forget()

        answers: dict[str, Any] = {}

        def web_refreshes_first(call: Call) -> None:
            """While Slack is asked by the clock, the web process refreshes the same token
            (its answer reaches Slack first)."""
            if call.method == "oauth.v2.access" and not answers:
                answers["web"] = None
                answers["web"] = web.slack.command("win alpha", team="T_ROT")

        fake_slack.observe(web_refreshes_first)
        answers["clock"] = clock.slack.command("win bravo", team="T_ROT")
        assert "Saved your win" in answers["web"].text
        assert "Saved your win" in answers["clock"].text
        # Both go on serving, with the one fresh token, and nobody refreshes again.
        assert "Saved your win" in web.slack.command("win charlie", team="T_ROT").text
        assert "Saved your win" in clock.slack.command("win delta", team="T_ROT").text
        # (On PostgreSQL the two share the channel's pace: a post a second.)
        fake_slack.wait_until(lambda: len(fake_slack.succeeded("chat.postMessage")) >= 4,
                              timeout=20, what="the four posts")
        web.settle()
        clock.settle()
    finally:
        web.stop()
        clock.stop()
    fresh = token_of(db, "T_ROT")
    assert fresh != old
    # The clock asked first, but the web process's refresh reached Slack before it.
    assert [c.ok for c in refreshes(fake_slack)] == [False, True]
    for text in ("alpha", "bravo", "charlie", "delta"):
        [post] = posts(fake_slack, text)
        assert post.ok and post.token == fresh, text


def test_token_refreshes_are_counted_by_method_and_result(database_url, fake_slack, db):
    ok, error = (SLACK_CALLS.labels("oauth.v2.access", result) for result in ("ok", "error"))
    server = BotServer(oauth_settings(database_url, fake_slack.url))
    try:
        install(server, fake_slack, "T_ROT", rotating=True)
        before = ok._value.get(), error._value.get()
        expire_soon(db, 60)  # an hour left: refreshed before it expires
        server.runtime.clients.identity.forget()
        fake_slack.fail("oauth.v2.access", error="internal_error")  # Slack says no once
        assert "Saved your win" in server.slack.command("win first", team="T_ROT").text
        assert "Saved your win" in server.slack.command("win second", team="T_ROT").text
        server.settle()
    finally:
        server.stop()
    assert [c.ok for c in refreshes(fake_slack)] == [False, True]
    assert (ok._value.get() - before[0], error._value.get() - before[1]) == (1, 1)
