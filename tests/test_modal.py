"""The Debrief modal: /debrief opens it; submitting stores the entry."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.models import Entry
from tests.kit.slack_requests import fill


def open_modal(bot, fake_slack) -> dict:
    answer = bot.slack.command("")
    assert answer.status == 200
    assert answer.text == ""  # the modal is the answer
    call = fake_slack.wait_for("views.open")[0]
    assert call.body["trigger_id"].endswith(".trigger")
    return call.body["view"]


def stored(db) -> list[Entry]:
    with db.session() as session:
        return list(session.scalars(select(Entry)))


def test_slash_debrief_opens_the_modal_after_the_ack(bot, fake_slack):
    gate = fake_slack.hold("views.open")
    answer = bot.slack.command("")  # answered while Slack still holds views.open
    assert answer.status == 200
    gate.set()
    view = fake_slack.wait_for("views.open")[0].body["view"]
    assert view["callback_id"] == "debrief_entry"
    labels = [b["label"]["text"] for b in view["blocks"]]
    assert labels == ["What is it?", "What happened?", "Who can see it?", "Anonymous"]
    assert json.loads(view["private_metadata"]) == {"channel_id": "C_TEAM"}


def test_submitting_stores_posts_and_confirms(bot, fake_slack, db):
    view = open_modal(bot, fake_slack)
    answer = bot.slack.view_submission(view, fill(view, {
        "kind": "lesson", "text": "Check the runbook first #ops", "anonymous": []}))
    assert answer.status == 200
    assert answer.body in (b"", b"{}") or "errors" not in answer.json()
    [entry] = stored(db)
    assert (entry.kind, entry.visibility, entry.anonymous, entry.source) == (
        "lesson", "team", False, "modal")
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert "Check the runbook first" in post.blocks_text()
    confirm = fake_slack.wait_for("chat.postEphemeral")[0]
    assert confirm.body["user"] == "U_ALICE"
    assert "Saved your lesson" in confirm.body["text"]


def test_private_entry_is_never_posted(bot, fake_slack, db):
    view = open_modal(bot, fake_slack)
    bot.slack.view_submission(view, fill(view, {
        "kind": "opportunity", "text": "I froze in the demo", "visibility": "private"}))
    confirm = fake_slack.wait_for("chat.postEphemeral")[0]
    assert "only you can see it" in confirm.body["text"]
    [entry] = stored(db)
    assert entry.visibility == "private"
    bot.settle()  # everything queued has been tried
    assert fake_slack.calls_to("chat.postMessage") == []


def test_anonymous_entry_carries_no_trace_of_its_author(bot, fake_slack, db):
    view = open_modal(bot, fake_slack)
    bot.slack.view_submission(view, fill(view, {
        "kind": "lesson", "text": "I merged without review", "anonymous": ["yes"]}))
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert "I merged without review" in post.blocks_text()
    assert "U_ALICE" not in json.dumps(post.body)
    assert "anonymously" in post.blocks_text()
    [entry] = stored(db)
    assert entry.anonymous and entry.author_id == "U_ALICE"  # the author can still find it


def test_empty_text_keeps_the_modal_open_with_an_error(bot, fake_slack, db):
    view = open_modal(bot, fake_slack)
    answer = bot.slack.view_submission(view, fill(view, {"kind": "win", "text": "   "}))
    assert answer.json()["response_action"] == "errors"
    assert "nothing to log" in answer.json()["errors"]["text"]
    assert stored(db) == []


def test_3001_characters_keep_the_modal_open_with_an_error(bot, fake_slack, db):
    view = open_modal(bot, fake_slack)
    answer = bot.slack.view_submission(view, fill(view, {"kind": "win", "text": "z" * 3001}))
    assert "3,001 characters" in answer.json()["errors"]["text"]
    assert stored(db) == []


def test_a_missing_kind_is_an_error_on_that_field(bot, fake_slack, db):
    view = open_modal(bot, fake_slack)
    answer = bot.slack.view_submission(view, fill(view, {"text": "something"}))
    assert "kind" in answer.json()["errors"]
    assert stored(db) == []
