"""A lost reply is not a second post, on every surface: a file shared (an export, the
health picture) and the DMs (a check-back, a nudge, a capture's consent ask). Slack does
the call, its reply never arrives, the outbox tries again: it finds what Slack stored and
keeps that, and forget-me takes down the one copy there is, or every copy a lost reply
left."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.clock import nudge_due
from bot.db.models import Capture, CheckBack, OutboxMessage
from bot.ids import OutboxAction
from tests.test_capture import capture, submit
from tests.test_checkback import ask as check_back_dm
from tests.test_collaborators import ANA, BEN, open_with
from tests.test_forget_me import ask as forget_me_form
from tests.test_nudges import quick_refresh, quiet_since, replan  # noqa: F401 (a fixture)

WORDS = "alices-own-words"


def outbox_row(db, action: OutboxAction) -> OutboxMessage:
    with db.session() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.action == action))
        return row


def sent(bot, fake_slack, db, action: OutboxAction) -> OutboxMessage:
    """Wait until the one row of `action` is recorded sent; that row."""
    fake_slack.wait_until(lambda: outbox_row(db, action).status == "sent",
                          what=f"{action} recorded sent")
    bot.settle()
    return outbox_row(db, action)


def forget(bot, fake_slack, user: str) -> None:
    assert bot.slack.view_submission(forget_me_form(bot, fake_slack, user=user), {},
                                     user=user).status == 200
    fake_slack.wait_for("files.delete")
    bot.settle()


def dms(fake_slack, user: str, says: str) -> list[dict]:
    """The bot's messages Slack holds in its DM with `user` that say `says`."""
    return [m for m in fake_slack.posts(user) if says in m["text"] + str(m["blocks"])]


def test_a_reply_lost_after_slack_stored_an_export_is_one_file_and_forget_me_deletes_it(
        bot, fake_slack, db):
    bot.slack.command(f"win {WORDS}", user="U_ALICE")
    bot.settle()
    fake_slack.lose_reply("files.completeUploadExternal")
    bot.slack.command("export", user="U_BOB")
    row = sent(bot, fake_slack, db, OutboxAction.UPLOAD_EXPORT)

    [file] = fake_slack.uploaded()  # one file in the channel, not two
    assert WORDS in file["content"].decode()
    assert row.result_ts == file["id"]  # the one Slack shows is the one kept

    forget(bot, fake_slack, "U_ALICE")
    assert fake_slack.uploaded() == []


def test_forget_me_deletes_every_copy_of_an_export_a_lost_reply_left(bot, fake_slack, db):
    bot.slack.command(f"win {WORDS}", user="U_ALICE")
    bot.settle()
    # The reply is lost, and Slack will not let the bot look (an install from before
    # files:read): the retry shares the file again.
    fake_slack.lose_reply("files.completeUploadExternal")
    fake_slack.fail("files.list", error="missing_scope")
    bot.slack.command("export", user="U_BOB")
    sent(bot, fake_slack, db, OutboxAction.UPLOAD_EXPORT)
    assert len(fake_slack.uploaded()) == 2

    forget(bot, fake_slack, "U_ALICE")
    fake_slack.wait_until(lambda: fake_slack.uploaded() == [], what="both copies deleted")


def test_a_lost_reply_for_a_check_back_dm_is_one_dm(bot, fake_slack, db):
    bot.slack.command("opp we skipped the load test", user="U_ALICE")
    bot.settle()
    fake_slack.lose_reply("chat.postMessage", channel="U_ALICE")
    check_back_dm(bot, fake_slack, db)
    sent(bot, fake_slack, db, OutboxAction.CHECKBACK_ASK)

    [dm] = dms(fake_slack, "U_ALICE", "What came of it")
    with db.session() as session:
        check = session.scalars(select(CheckBack)).one()
    assert (check.dm_channel_id, check.dm_ts) == ("D_ALICE", dm["ts"])


def test_a_lost_reply_for_a_nudge_dm_is_one_dm(bot, fake_slack, db):
    open_with(bot, fake_slack, db, ANA, BEN)
    quiet_since(db, ANA, datetime(2026, 11, 2, 9, tzinfo=UTC))
    replan(bot)
    bot.settle()
    fake_slack.lose_reply("chat.postMessage", channel=ANA)
    assert nudge_due(db, datetime(2026, 11, 9, 10, tzinfo=UTC)) == 1
    row = sent(bot, fake_slack, db, OutboxAction.CARD_NUDGE)

    [dm] = dms(fake_slack, ANA, "have added nothing to it")
    assert row.result_ts == dm["ts"]


def test_a_lost_reply_for_a_capture_consent_dm_is_one_dm(bot, fake_slack, db):
    fake_slack.lose_reply("chat.postMessage", channel="U_BOB")
    submit(bot, capture(bot, fake_slack), kind="lesson")
    sent(bot, fake_slack, db, OutboxAction.CAPTURE_ASK)

    [dm] = dms(fake_slack, "U_BOB", "captured your message")
    with db.session() as session:
        found = session.scalars(select(Capture)).one()
    assert (found.asked_channel_id, found.asked_ts) == ("D_BOB", dm["ts"])


def test_a_reply_lost_after_slack_stored_the_health_picture_is_one_picture(
        bot, fake_slack, db):
    bot.slack.command("win shipped the beta")
    fake_slack.lose_reply("files.completeUploadExternal")
    assert "Sharing this channel's last 12 weeks here" in bot.slack.command("health").text
    row = sent(bot, fake_slack, db, OutboxAction.UPLOAD_HEALTH)

    [picture] = fake_slack.uploaded()
    assert picture["filename"].startswith("learning-health-")
    assert row.result_ts == picture["id"]
