"""Nothing people wrote reaches the logs at INFO or above, on any path; the HTTP app checks
signatures even when the bot is set up for Socket Mode."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import pytest

from bot.config import MissingCredentials, Settings
from bot.web import create_app
from tests.kit.slack_requests import sign

SECRET_WORD = "zanzibar-quokka-7731"


def logged(caplog) -> str:
    """Every record at INFO or above, as a handler would write it."""
    formatter = logging.Formatter("%(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records if r.levelno >= logging.INFO)


@pytest.mark.parametrize("how", ["wrong secret", "stale timestamp"])
def test_a_badly_signed_request_logs_nothing_anyone_wrote(bot, caplog, how):
    caplog.set_level(logging.DEBUG)
    body = urlencode({"team_id": "T0001", "channel_id": "C_TEAM", "user_id": "U_ALICE",
                      "command": "/hope", "text": f"my private {SECRET_WORD} reflection",
                      "trigger_id": "1.1.t", "api_app_id": "A0001"})
    stamp = int(time.time()) - (400 if how == "stale timestamp" else 0)
    secret = "rotated-secret" if how == "wrong secret" else "test-signing-secret"
    answer = bot.slack.post(body, "application/x-www-form-urlencoded", timestamp=stamp,
                            signature=sign(body, stamp, secret))
    assert answer.status == 401
    text = logged(caplog)
    assert "signature" in text.lower()  # it is logged that a request was refused…
    assert SECRET_WORD not in text  # …without what was in it


def test_an_unhandled_request_logs_nothing_anyone_wrote(bot, caplog):
    caplog.set_level(logging.DEBUG)
    payload = {"type": "view_submission", "team": {"id": "T0001"},
               "user": {"id": "U_ALICE", "team_id": "T0001"}, "api_app_id": "A0001",
               "view": {"id": "V1", "callback_id": "nobody_listens", "private_metadata":
                        SECRET_WORD, "state": {"values": {"b": {"a": {
                            "type": "plain_text_input", "value": SECRET_WORD}}}}}}
    bot.slack.interaction(payload)
    assert SECRET_WORD not in logged(caplog)


def test_the_http_app_is_not_served_without_a_signing_secret_in_socket_mode(fake_slack):
    settings = Settings(bot_token="xoxb-test", app_token="xapp-test",
                        database_url="sqlite://", slack_api_url=fake_slack.url)
    with pytest.raises(MissingCredentials, match="SLACK_SIGNING_SECRET"):
        create_app(settings, start_worker=False)
