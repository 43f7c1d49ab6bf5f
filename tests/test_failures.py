"""When things go wrong: the ack never waits for Slack, and nobody loses what they typed."""

from __future__ import annotations

import logging

from tests.kit.bot_server import BotServer, bot_settings


def test_the_answer_does_not_wait_for_slack(bot, fake_slack):
    gate = fake_slack.hold("chat.postMessage")  # Slack is stuck
    answer = bot.slack.command("win quick answer")
    assert "Saved your win" in answer.text  # answered while the post is still held
    assert fake_slack.succeeded("chat.postMessage") == []
    gate.set()
    fake_slack.wait_for("chat.postMessage")


def test_a_database_failure_hands_the_text_back(fake_slack, caplog):
    down = bot_settings("postgresql+psycopg://nobody@127.0.0.1:1/nothing", fake_slack.url)
    server = BotServer(down, start_worker=False)
    try:
        with caplog.at_level(logging.INFO):
            answer = server.slack.command("lesson secret words the team must not lose")
    finally:
        server.stop()
    assert answer.status == 200
    assert "not saved" in answer.text
    assert "secret words the team must not lose" in answer.text
    assert "secret words" not in caplog.text  # and never in the logs


def test_the_oauth_install_page_is_served(database_url, fake_slack):
    settings = bot_settings(database_url, fake_slack.url, bot_token=None,
                            client_id="111.222", client_secret="shh")
    server = BotServer(settings, start_worker=False)
    try:
        import urllib.request

        with urllib.request.urlopen(server.url + "/slack/install", timeout=10) as answer:
            page = answer.read().decode()
            assert answer.status == 200
    finally:
        server.stop()
    assert "https://slack.com/oauth/v2/authorize?state=" in page
    assert "client_id=111.222" in page
