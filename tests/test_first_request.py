"""Single-workspace mode (SLACK_BOT_TOKEN) before Slack has said whose the token is: a
request waits briefly for auth.test, so another workspace is refused even as the very first
request; when Slack cannot say in time, what people write is kept, and whatever turns out
not to be ours fails in the outbox with its reason, never silently."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from bot.db.models import Entry, OutboxMessage, OutboxStatus
from tests.kit.bot_server import BotServer, bot_settings


def entry_teams(db) -> dict[str, str]:
    with db.session() as session:
        return dict(session.execute(select(Entry.text, Entry.team_id)).all())


def test_another_workspace_is_refused_even_as_the_very_first_request(database_url,
                                                                     fake_slack, db):
    gate = fake_slack.hold("auth.test")  # Slack takes its time to say whose the token is
    server = BotServer(bot_settings(database_url, fake_slack.url))
    try:
        fake_slack.wait_for("auth.test")  # asked at start, not answered yet
        answered = threading.Timer(0.3, gate.set)  # it answers while the request waits
        answered.start()
        answer = server.slack.command("win theirs", team="T_OTHER", user="U_BOB")
        answered.join()
        assert "Saved" not in answer.text
        [told] = fake_slack.wait_for("response_url")
        assert "not installed in this workspace" in told.body["text"]
        assert "nothing was saved" in told.body["text"]
        assert "Saved your win" in server.slack.command("win ours").text
        server.settle()
    finally:
        server.stop()
    assert entry_teams(db) == {"ours": "T0001"}
    assert ["ours" in c.blocks_text() for c in fake_slack.calls_to("chat.postMessage")] == [True]
    assert len(fake_slack.calls_to("auth.test")) == 1  # one question in flight, not two


def test_when_slack_cannot_say_whose_the_token_is_what_people_write_is_kept(
        database_url, fake_slack, db, caplog):
    fake_slack.fail("auth.test", status=503, times=1000)
    server = BotServer(bot_settings(database_url, fake_slack.url), start_worker=False)
    try:
        assert "Saved your win" in server.slack.command("win kept while Slack is down").text
        # Slack cannot say whose the token is: the text is kept, not refused.
        assert "Saved" in server.slack.command("win from elsewhere", team="T_OTHER",
                                               user="U_BOB").text
        fake_slack.heal("auth.test")
        with caplog.at_level(logging.WARNING):
            server.runtime.worker.start()
            fake_slack.wait_for("chat.postMessage")
            server.settle()
    finally:
        server.stop()
    assert entry_teams(db) == {"kept while Slack is down": "T0001",
                               "from elsewhere": "T_OTHER"}
    posts = fake_slack.calls_to("chat.postMessage")
    assert ["kept while Slack is down" in c.blocks_text() for c in posts] == [True]
    # The other workspace's post: failed for good with its reason, not silently dropped.
    with db.session() as session:
        theirs = session.scalars(select(OutboxMessage).where(
            OutboxMessage.team_id == "T_OTHER")).all()
    assert theirs and all(row.status == OutboxStatus.FAILED for row in theirs)
    assert all("serves T0001 only" in (row.last_error or "") for row in theirs)
    assert "serves T0001 only" in caplog.text
