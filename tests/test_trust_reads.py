"""What people may read follows Slack now, and anonymous stays anonymous in every count,
through signed HTTP."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.models import Entry
from tests.kit.slack_requests import reaction
from tests.test_export import exported, log_in_modal, rows_of
from tests.test_rotation_reminders import rotation_due, the_turn


def test_a_lesson_in_another_channel_does_not_mark_the_turn_shared(bot, fake_slack, db):
    from bot.clock import send_rotation_reminders

    rotation_due(db)
    send_rotation_reminders(bot.runtime)
    fake_slack.wait_for("chat.postMessage", 2)
    bot.settle()
    # Ana is up in #team; she logs a lesson in a private channel #team cannot see.
    bot.slack.command("lesson what we learned in private", user="U_ANA", channel="C_SECRET")
    bot.settle()
    assert the_turn(db).status == "reminded"
    assert not [c for c in fake_slack.calls_to("chat.update") if "shared" in c.body["text"]]
    bot.slack.command("lesson told the team", user="U_ANA")  # in #team itself: shared
    assert the_turn(db).status == "shared"


def posted(db, text: str) -> Entry:
    with db.session() as session:
        return session.scalars(select(Entry).where(Entry.text == text)).one()


def test_no_public_count_tells_whether_the_author_reacted_to_anonymous_work(
        bot, fake_slack, db):
    for text in ("anonymous one", "anonymous two"):
        log_in_modal(bot, fake_slack, user="U_BOB", kind="lesson", text=text,
                     anonymous=["yes"])
    fake_slack.wait_for("chat.postMessage", 2)
    bot.settle()
    one, two = posted(db, "anonymous one"), posted(db, "anonymous two")
    # Slack shows two reactors on each: on the first, one of them is its author.
    for entry, reactors in ((one, ("U_BOB", "U_CAROL")), (two, ("U_DAVE", "U_CAROL"))):
        for reactor in reactors:
            bot.slack.event(reaction("reaction_added", user=reactor, channel="C_TEAM",
                                     ts=entry.message_ts))
    bot.slack.command("export", user="U_CAROL")
    counts = {row["text"]: row["applause"] for row in rows_of(exported(fake_slack))}
    assert counts == {"anonymous one": "2", "anonymous two": "2"}
    # Bob's own figures leave his own reaction out: received 3, given 0.
    mine = bot.slack.command("kudos", user="U_BOB").text
    assert "received *3* applause" in mine and "gave *0*" in mine


def test_a_guests_home_and_export_hold_no_organisation_wide_entries(bot, fake_slack, db):
    fake_slack.users["U_GUEST"] = {"id": "U_GUEST", "name": "guest", "is_restricted": True}
    log_in_modal(bot, fake_slack, user="U_BOB", kind="lesson", text="an org-wide lesson",
                 visibility="org")
    log_in_modal(bot, fake_slack, user="U_BOB", kind="lesson", text="a team lesson")
    fake_slack.wait_for("chat.postMessage", 2)
    bot.settle()
    bot.slack.event({"type": "app_home_opened", "user": "U_GUEST", "tab": "home",
                     "channel": "D_GUEST", "event_ts": "1700000000.000100"})
    home = json.dumps(fake_slack.wait_for("views.publish")[0].body)
    assert "a team lesson" in home and "an org-wide lesson" not in home
    answer = bot.slack.command("export", user="U_GUEST")
    assert "Exporting 1 entry" in answer.text
    assert [row["text"] for row in rows_of(exported(fake_slack))] == ["a team lesson"]


def test_search_asks_slack_once_a_minute_and_says_when_it_could_not(bot, fake_slack, db):
    bot.slack.command("lesson rollback drills help", user="U_BOB")
    bot.settle()  # (Bob's related lessons asked about Bob)
    for _ in range(3):
        assert "rollback drills" in bot.slack.command("search rollback").text

    def asked(method: str) -> int:
        return len([c for c in fake_slack.calls_to(method) if c.body["user"] == "U_ALICE"])

    assert (asked("users.conversations"), asked("users.info")) == (1, 1)
    bot.runtime.directory.forget()
    fake_slack.fail("users.conversations", status=500, times=5)
    answer = bot.slack.command("search rollback")
    assert "rollback drills" in answer.text  # this channel's, where Slack just saw her
    assert "Slack did not tell me" in answer.text
