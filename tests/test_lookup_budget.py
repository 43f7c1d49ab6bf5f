"""One budget of time for all of a request's questions to Slack about a person
(bot/directory.py): however slowly Slack pages through someone's channels, the request
answers well inside Slack's 3 seconds, with what is certain."""

from __future__ import annotations

import time

from bot.views.search import NARROWED


def test_a_search_answers_in_time_when_slack_pages_through_channels_slowly(bot, fake_slack):
    assert "Saved your win" in bot.slack.command("win the quarterly report shipped").text
    # Alice is in many channels, and Slack is slow: a page of them takes most of a second.
    fake_slack.memberships["U_ALICE"] = ["C_TEAM"] + [f"C_{n:03d}" for n in range(9)]
    fake_slack.page_size = 2
    fake_slack.slow("users.info", 0.5)
    fake_slack.slow("users.conversations", 0.9)
    started = time.monotonic()
    answer = bot.slack.command("search quarterly report")
    took = time.monotonic() - started
    assert answer.status == 200
    assert took < 2.5, f"answered after {took:.1f} s"
    # What is certain is served, and the person is told why it may be incomplete.
    assert "quarterly report" in answer.text and "1 best match" in answer.text
    assert NARROWED.strip("_") in answer.text
    # Slack is asked no more than the budget allows: not every page.
    assert len(fake_slack.calls_to("users.conversations")) <= 2
