"""Socket Mode (PRODUCT.md §1): with SLACK_APP_TOKEN, `python -m bot` connects to the socket
`apps.connections.open` hands out (at SLACK_API_URL), acknowledges every envelope with its
envelope_id, reconnects when Slack drops the socket, and on SIGTERM closes it and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import Applause, Entry
from tests.kit.fake_slack import FakeSlack
from tests.kit.slack_requests import (
    SIGNING_SECRET,
    command_fields,
    event_callback,
    fill,
    reaction,
    view_submission,
)
from tests.kit.socket_slack import SocketSlack

ROOT = Path(__file__).resolve().parents[1]
APP_TOKEN = "xapp-1-A0001-test"


@pytest.fixture
def socket_slack(fake_slack: FakeSlack):
    double = SocketSlack().start()
    fake_slack.socket_url = double.url
    yield double
    double.stop()


@pytest.fixture
def bot_process(database_url, fake_slack, socket_slack, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(PYTHONPATH=str(ROOT), SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN="xoxb-socket",
               SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake_slack.url,
               DATABASE_URL=database_url)
    process = subprocess.Popen([sys.executable, "-m", "bot"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process
    if process.poll() is None:
        process.kill()
        process.communicate()


def entries(db) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Entry.text).order_by(Entry.id)))


def test_python_m_bot_over_socket_mode(bot_process, socket_slack, fake_slack, db):
    socket_slack.wait_connected()
    [opened] = fake_slack.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN and opened.path == "/api/apps.connections.open"

    # A slash command: acknowledged with its answer, stored, posted.
    envelope = socket_slack.send("slash_commands", command_fields("win over the socket"))
    assert "Saved your win" in socket_slack.ack(envelope)["text"]
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert "over the socket" in post.blocks_text()
    assert entries(db) == ["over the socket"]

    # The Debrief modal, submitted.
    socket_slack.ack(socket_slack.send("slash_commands", command_fields("")))
    view = fake_slack.wait_for("views.open")[0].body["view"]
    envelope = socket_slack.send("interactive", view_submission(view, fill(view, {
        "kind": "lesson", "text": "typed in the modal"})))
    assert socket_slack.ack(envelope) == {}  # the modal closes
    fake_slack.wait_until(lambda: any("typed in the modal" in c.blocks_text()
                                      for c in fake_slack.calls_to("chat.postMessage")),
                          what="the modal's entry posted")
    assert entries(db) == ["over the socket", "typed in the modal"]

    # A reaction, delivered twice (Slack redelivers an envelope it thinks was lost).
    clap = event_callback(reaction("reaction_added", user="U_BOB",
                                   channel=post.body["channel"], ts=post.response["ts"]),
                          event_id="EvSOCKET1")
    for attempt in range(2):
        socket_slack.ack(socket_slack.send("events_api", clap, retry_attempt=attempt))
    with db.session() as session:
        assert [a.reactor_id for a in session.scalars(select(Applause))] == ["U_BOB"]

    # Slack drops the connection: the bot opens a new one and goes on.
    socket_slack.drop()
    socket_slack.wait_connected(2)
    assert len(fake_slack.calls_to("apps.connections.open")) == 2
    envelope = socket_slack.send("slash_commands", command_fields("win after the reconnect"))
    assert "Saved your win" in socket_slack.ack(envelope)["text"]
    assert entries(db)[-1] == "after the reconnect"

    # SIGTERM: the socket is closed and the process exits 0.
    bot_process.send_signal(signal.SIGTERM)
    output, _ = bot_process.communicate(timeout=15)
    assert bot_process.returncode == 0, output
    socket_slack.wait(lambda: socket_slack.connections[-1] in socket_slack.closed,
                      "the socket closed")
    assert "Traceback" not in output
