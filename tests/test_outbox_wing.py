"""The outbox wing's own rules: every action has one sender, senders never commit nor
reach into Slack-in, services never reach into Slack-out, and settling waits for real."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import Entry
from bot.ids import OutboxAction
from bot.outbox.sender import dispatch
from bot.outbox.senders import every_sender

BOT = Path(__file__).resolve().parents[1] / "bot"


def test_every_outbox_action_has_exactly_one_sender():
    assert set(dispatch(every_sender())) == set(OutboxAction)


def test_a_missing_or_doubled_sender_stops_the_start():
    senders = every_sender()
    with pytest.raises(ValueError, match="no sender for"):
        dispatch(senders[1:])
    with pytest.raises(ValueError, match="two senders"):
        dispatch([*senders, senders[0]])


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    found |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
              for alias in node.names}
    return found


def commits(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"]


def test_senders_never_commit_nor_import_slack_in():
    for path in sorted((BOT / "outbox").rglob("*.py")):
        assert not [m for m in imports(path) if m.startswith("bot.listeners")], path
    for path in sorted((BOT / "outbox" / "senders").glob("*.py")):
        assert commits(path) == [], path  # the core commits what a sender records


def test_services_never_import_slack_out():
    for path in sorted((BOT / "services").glob("*.py")):
        assert not [m for m in imports(path) if m.startswith("bot.outbox")], path


def test_settle_waits_until_the_post_is_recorded_and_fails_loudly_when_it_is_not(
        bot, fake_slack, db):
    gate = fake_slack.hold("chat.postMessage")  # Slack does not answer
    bot.slack.command("win held up")
    with pytest.raises(TimeoutError):
        bot.settle(timeout=0.5)
    gate.set()
    bot.settle()
    with db.session() as session:
        assert session.scalars(select(Entry.message_ts)).one() is not None


def test_settle_needs_a_running_worker(bot):
    bot.runtime.worker.stop()  # the one thing this test is about
    with pytest.raises(RuntimeError, match="not running"):
        bot.settle()
