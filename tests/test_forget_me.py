"""/debrief forget-me: after a confirmation, everything the caller wrote here is erased."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.models import Applause, Entry, Reflection
from tests.test_hope import reflect


def rows(db, model) -> list:
    with db.session() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def posted(bot, fake_slack, *commands, user="U_ALICE") -> None:
    """Log entries and wait until their messages are posted and recorded."""
    before = len(fake_slack.calls_to("chat.postMessage"))
    for text in commands:
        bot.slack.command(text, user=user)
    fake_slack.wait_for("chat.postMessage", before + len(commands))
    bot.settle()


def applaud(db, entry: Entry, reactor: str, emoji: str = "tada") -> None:
    with db.session() as session:
        session.add(Applause(team_id=entry.team_id, channel_id=entry.message_channel_id,
                             message_ts=entry.message_ts, reactor_id=reactor, emoji=emoji,
                             author_id=entry.author_id, entry_id=entry.id))
        session.commit()


def ask(bot, fake_slack, user="U_ALICE") -> dict:
    before = len(fake_slack.calls_to("views.open"))
    answer = bot.slack.command("forget-me", user=user)
    assert answer.status == 200 and answer.text == ""
    return fake_slack.wait_for("views.open", before + 1)[before].body["view"]


def test_forget_me_asks_then_erases_everything_the_caller_wrote(bot, fake_slack, db):
    posted(bot, fake_slack, "win alice shipped", "lesson alice learned")
    posted(bot, fake_slack, "win bob shipped", user="U_BOB")
    reflect(bot, fake_slack, {"hope_answer_1": "alice private thought"})
    alice_win, alice_lesson, bob_win = rows(db, Entry)
    applaud(db, alice_win, "U_BOB")  # received
    applaud(db, bob_win, "U_ALICE")  # given
    applaud(db, bob_win, "U_CAROL")  # nothing to do with Alice

    modal = ask(bot, fake_slack)
    shown = json.dumps(modal)
    assert modal["callback_id"] == "forget_me" and modal["submit"]["text"] == "Erase everything"
    assert "2 entries" in shown and "1 reflection" in shown
    assert "gave (1) and received (1)" in shown and "cannot be undone" in shown
    assert len(rows(db, Entry)) == 3  # asking erased nothing

    answer = bot.slack.view_submission(modal, {})
    assert answer.json()["response_action"] == "update"
    assert "Done" in json.dumps(answer.json()["view"])

    assert [e.author_id for e in rows(db, Entry)] == ["U_BOB"]
    assert rows(db, Reflection) == []
    assert [a.reactor_id for a in rows(db, Applause)] == ["U_CAROL"]
    deleted = fake_slack.wait_for("chat.delete", 2)
    bot.settle()
    assert sorted((c.body["channel"], c.body["ts"]) for c in deleted) == sorted(
        (e.message_channel_id, e.message_ts) for e in (alice_win, alice_lesson))
    assert len(fake_slack.calls_to("chat.delete")) == 2  # Bob's message stays


def test_closing_the_confirmation_erases_nothing(bot, fake_slack, db):
    posted(bot, fake_slack, "win keep me")
    ask(bot, fake_slack)  # and the person presses "Keep it all": Slack sends us nothing
    bot.settle()
    assert len(rows(db, Entry)) == 1 and fake_slack.calls_to("chat.delete") == []


def test_with_nothing_stored_it_says_so_without_asking(bot, fake_slack, db):
    answer = bot.slack.command("forget-me")
    assert "nothing of yours" in answer.text
    assert fake_slack.calls_to("views.open") == []


def test_forget_me_only_touches_this_workspace(bot, fake_slack, db):
    with db.session() as session:
        session.add(Entry(team_id="T_OTHER", channel_id="C_X", author_id="U_ALICE",
                          kind="win", text="elsewhere"))
        session.add(Reflection(team_id="T_OTHER", author_id="U_ALICE", prompts=["p"],
                               answers=["there"]))
        session.commit()
    reflect(bot, fake_slack, {"hope_answer_1": "here"})
    bot.slack.view_submission(ask(bot, fake_slack), {})
    assert [e.team_id for e in rows(db, Entry)] == ["T_OTHER"]
    assert [r.team_id for r in rows(db, Reflection)] == ["T_OTHER"]


def test_an_entry_not_yet_posted_is_never_posted(bot, fake_slack, db):
    bot.runtime.worker.stop()  # Slack is slow: the post is still queued
    bot.slack.command("win about to vanish")
    modal = ask(bot, fake_slack)
    bot.slack.view_submission(modal, {})
    bot.runtime.worker.start()
    bot.settle()
    assert fake_slack.calls_to("chat.postMessage") == []
    assert rows(db, Entry) == []


def test_anonymous_and_shared_entries_go_too(bot, fake_slack, db):
    from tests.test_hope_share import share

    share(bot, fake_slack, db, {"hope_answer_1": "shared then regretted"},
          hope_share_anonymous=["yes"])
    fake_slack.wait_for("chat.postMessage")
    bot.settle()
    [entry] = rows(db, Entry)
    assert entry.message_ts
    bot.slack.view_submission(ask(bot, fake_slack), {})
    deletion = fake_slack.wait_for("chat.delete")[0]
    assert deletion.body["ts"] == entry.message_ts
    assert rows(db, Entry) == [] and rows(db, Reflection) == []


def test_help_lists_forget_me(bot):
    assert "/debrief forget-me" in bot.slack.command("help").text


def test_a_failure_while_erasing_says_so_and_changes_nothing(bot, fake_slack, db):
    from sqlalchemy import text

    reflect(bot, fake_slack, {"hope_answer_1": "still here"})
    modal = ask(bot, fake_slack)
    with db.engine.begin() as connection:  # the database loses a table mid-flight
        connection.execute(text("ALTER TABLE applause RENAME TO applause_away"))
    try:
        answer = bot.slack.view_submission(modal, {})
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE applause_away RENAME TO applause"))
    assert answer.json()["response_action"] == "update"
    assert "nothing was changed" in json.dumps(answer.json()["view"])
    assert len(rows(db, Reflection)) == 1
