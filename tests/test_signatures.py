"""Every request must carry Slack's signature; anything else is refused and changes nothing."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.db.models import Entry
from tests.kit.slack_requests import sign

FIELDS = {"team_id": "T0001", "channel_id": "C_TEAM", "user_id": "U_ALICE",
          "command": "/debrief", "text": "win forged", "trigger_id": "1.1.t",
          "api_app_id": "A0001", "response_url": "https://hooks.slack.com/x"}


def count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Entry))


def send(bot, **kwargs):
    return bot.slack.post(urlencode(FIELDS), "application/x-www-form-urlencoded", **kwargs)


def test_a_signed_request_is_accepted(bot, db):
    assert send(bot).status == 200
    assert count(db) == 1


def test_missing_signature_is_refused(bot, fake_slack, db):
    assert send(bot, sign_it=False).status == 401
    assert count(db) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


def test_wrong_signature_is_refused(bot, db):
    body = urlencode(FIELDS)
    bad = sign(body, int(time.time()), secret="not-our-secret")
    assert send(bot, signature=bad).status == 401
    assert count(db) == 0


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_over_300_seconds_away_is_refused(bot, db, skew):
    stamp = int(time.time()) + skew
    # Correctly signed for that timestamp: only its age gives it away.
    assert send(bot, timestamp=stamp).status == 401
    assert count(db) == 0


def test_a_tampered_body_is_refused(bot, db):
    stamp = int(time.time())
    signature = sign(urlencode(FIELDS), stamp)
    tampered = urlencode({**FIELDS, "text": "win something else"})
    answer = bot.slack.post(tampered, "application/x-www-form-urlencoded",
                            timestamp=stamp, signature=signature)
    assert answer.status == 401
    assert count(db) == 0
