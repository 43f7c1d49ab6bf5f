"""Text people wrote is rendered verbatim wherever the bot posts it, as the entry post is:
Slack then never turns a name, a channel or an address in it into a link or a mention."""

from __future__ import annotations

from bot.clock import post_due_digests, send_rotation_reminders
from tests.test_card_close import debrief_post
from tests.test_cards import open_card
from tests.test_digest import add, due_now
from tests.test_rotation_reminders import rotation_due

WRITTEN = "ping ana and #general at example.com"


def sections_with(call, words: str) -> list[dict]:
    """The text objects of the message's blocks that hold `words`."""
    found = []
    for block in call.body.get("blocks") or []:
        for part in [block.get("text"), *(block.get("elements") or [])]:
            if isinstance(part, dict) and words in str(part.get("text", "")):
                found.append(part)
    assert found, f"{words!r} is not in the message"
    return found


def test_a_card_debrief_is_verbatim(bot, fake_slack, db):
    open_card(bot, fake_slack, db, title="Launch example.com")
    bot.slack.command("close 1")
    post = debrief_post(fake_slack)
    assert all(part["verbatim"] is True for part in sections_with(post, "example.com"))


def test_the_digest_is_verbatim(bot, fake_slack, db):
    fake_slack.users["U_ALICE"] = {"id": "U_ALICE", "is_admin": True}
    bot.slack.command("digest here weekly mon 09:00")
    with db.session() as session:
        add(session, WRITTEN, claps=2)
        session.commit()
    due_now(db)
    post_due_digests(bot.runtime)
    bot.settle()
    [post] = [c for c in fake_slack.calls_to("chat.postMessage") if "learnings" in c.body["text"]]
    assert all(part["verbatim"] is True for part in sections_with(post, "example.com"))


def test_the_rotation_dm_is_verbatim(bot, fake_slack, db):
    fake_slack.users["U_ANA"] = {"id": "U_ANA", "deleted": False}
    bot.slack.command(f"lesson {WRITTEN}", user="U_ANA", channel="C_ELSE")
    rotation_due(db, people=("U_ANA",))
    send_rotation_reminders(bot.runtime)
    bot.settle()
    [dm] = [c for c in fake_slack.calls_to("chat.postMessage") if c.body["channel"] == "U_ANA"]
    assert all(part["verbatim"] is True for part in sections_with(dm, "example.com"))
