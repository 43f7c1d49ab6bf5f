"""Stopping cleanly (PRODUCT.md §8): on SIGTERM every process (`python -m bot`, the
Procfile's `web` and `clock`) stops taking work, hands back what it holds and exits 0
within 10 seconds; a post in flight is sent once, before or after the restart."""

from __future__ import annotations

import re
import signal

import pytest
from sqlalchemy import select

from bot.db.models import OutboxMessage, OutboxStatus
from bot.ids import OutboxAction
from bot.services import outbox
from tests.kit.processes import Process

# Heroku signals every process of the dyno; Docker and a terminal signal the first one.
SIGNAL_GROUP = {"web": True, "bot": False, "clock": False}


def rows(db) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def queue(kind: str, process: Process, db, count: int) -> list[str]:
    """Give the process `count` posts to make, each in a channel of its own: entries
    through /debrief where it serves HTTP; DMs queued in the database (all in one
    commit, so that one pass claims them all) for the clock and when `kind` is "db"."""
    words = [f"pending post {n}" for n in range(count)]
    if kind in ("clock", "db"):
        with db.session() as session:
            for n, text in enumerate(words):
                outbox.enqueue(session, team_id="T0001", action=OutboxAction.NOTIFY_USER,
                               channel_id=f"U{n:04d}", user_id=f"U{n:04d}",
                               payload={"text": text})
            session.commit()
    else:
        for n, text in enumerate(words):
            answer = process.slack.command(f"win {text}", channel=f"C{n:04d}")
            assert "Saved your win" in answer.text
    return words


def posted_once_each(fake_slack, words: list[str]) -> None:
    texts = [call.body.get("text", "") for call in fake_slack.succeeded("chat.postMessage")]
    counts = {word: sum(text.endswith(word) for text in texts) for word in words}
    assert counts == dict.fromkeys(words, 1)


@pytest.mark.parametrize("kind", ["bot", "web", "clock"])
def test_sigterm_while_slack_fails_then_a_restart_posts_each_once(
        kind, database_url, fake_slack, db, tmp_path):
    fake_slack.fail("chat.postMessage", status=503, times=10_000)  # Slack is down
    process = Process(kind, database_url, fake_slack.url, tmp_path).start()
    try:
        words = queue(kind, process, db, 4)
        fake_slack.wait_for("chat.postMessage", 4, timeout=30)  # each tried, and failed
        status, seconds = process.stop(signal.SIGTERM, group=SIGNAL_GROUP[kind])
    finally:
        process.kill()
    assert status == 0, process.output()
    assert seconds < 10
    assert all(r.claimed_until is None for r in rows(db)), "a claim was kept"

    fake_slack.heal()
    again = Process(kind, database_url, fake_slack.url, tmp_path).start()
    try:
        fake_slack.wait_until(lambda: len(fake_slack.succeeded("chat.postMessage")) >= 4,
                              timeout=30, what="the posts after the restart")
        fake_slack.wait_until(lambda: all(r.status == OutboxStatus.SENT for r in rows(db)),
                              what="every row recorded as sent")
        status, _ = again.stop(signal.SIGTERM, group=SIGNAL_GROUP[kind])
    finally:
        again.kill()
    assert status == 0
    posted_once_each(fake_slack, words)


@pytest.mark.parametrize("kind", ["bot", "web", "clock"])
def test_a_send_in_flight_at_sigterm_is_sent_once_and_the_rest_go_back_at_once(
        kind, database_url, fake_slack, db, tmp_path):
    gate = fake_slack.hold("chat.postMessage")  # Slack takes its time answering
    process = Process(kind, database_url, fake_slack.url, tmp_path).start()
    try:
        words = queue("db", process, db, 5)  # one pass claims all five
        fake_slack.wait_for("chat.postMessage", 1, timeout=15)  # the first is in flight
        process.send(signal.SIGTERM, group=SIGNAL_GROUP[kind])
        # Every process (each web worker) took the signal before Slack answers.
        takers = {"clock": 1, "bot": 1, "web": 2}[kind]
        fake_slack.wait_until(lambda: len(re.findall(r"(?:worker \d+|clock) stopping: no new work",
                                                     process.output())) == takers,
                              what="the signal taken")
        in_flight = len(fake_slack.calls_to("chat.postMessage"))
        gate.set()  # Slack answers while the process is stopping
        assert process.popen is not None
        status = process.popen.wait(10)
    finally:
        process.kill()
    assert status == 0, process.output()
    after_stop = rows(db)
    assert in_flight == 1
    assert [r.status for r in after_stop] == [OutboxStatus.SENT] + [OutboxStatus.PENDING] * 4
    assert all(r.claimed_until is None for r in after_stop)  # the rest handed back
    assert "outbox: handed back 4 claimed row(s)" in process.output()

    again = Process(kind, database_url, fake_slack.url, tmp_path).start()
    try:
        # At once: well before a claim's lease (60 s) would have run out.
        fake_slack.wait_until(lambda: len(fake_slack.succeeded("chat.postMessage")) >= 5,
                              timeout=15, what="the handed-back posts")
        fake_slack.wait_until(lambda: all(r.status == OutboxStatus.SENT for r in rows(db)),
                              what="every post recorded as sent")
        again.stop(signal.SIGTERM, group=SIGNAL_GROUP[kind])
    finally:
        again.kill()
    posted_once_each(fake_slack, words)


def test_a_post_slack_took_is_recorded_once_the_database_is_back(bot, fake_slack, db,
                                                                 monkeypatch):
    """The database fails just after Slack posted (a restart): the outbox keeps trying
    to record it, instead of letting the claim's lease run out and posting it again."""
    from sqlalchemy.exc import OperationalError

    from bot.outbox import store

    mark_sent = store.mark_sent
    failures = [OperationalError("UPDATE outbox", {}, Exception("server closed the "
                                                                "connection"))] * 2

    def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return mark_sent(*args, **kwargs)

    monkeypatch.setattr(store, "mark_sent", flaky)
    bot.slack.command("win through a database restart")
    fake_slack.wait_until(lambda: not failures, what="the database back")
    bot.settle()
    assert [r.status for r in rows(db)] == [OutboxStatus.SENT]
    assert len(fake_slack.succeeded("chat.postMessage")) == 1
