"""Long text within Slack's limits: escaped, an entry of 3,000 characters can grow past what
one section (3,000) or one message's blocks (about 12,000) take. Every post that carries
what people wrote stays within them, shows all of it, and one post Slack cannot take
never holds back another."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import post_due_digests, send_rotation_reminders
from bot.db.models import Applause, Entry, OutboxMessage, utcnow
from bot.outbox import retry
from bot.outbox.senders import entries as entry_sender
from bot.services import cards
from tests.kit.fake_slack import Call
from tests.test_digest import due_now
from tests.test_rotation_reminders import rotation_due

# What grows most once escaped, and what Slack would ping or link were it not made inert.
GROWING = ("R&D <beta> @here & <https://x.example|x> " * 100)[:3000]


def escaped(typed: str) -> str:
    """Literal text as Slack sends it in a slash command (should_escape: true)."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shown(call: Call) -> str:
    """The text of a message's sections as a person reads it (entities decoded, the
    zero-width space that keeps @here inert taken out)."""
    parts = [block["text"]["text"] for block in call.body.get("blocks") or []
             if block["type"] == "section"]
    return html.unescape("".join(parts)).replace("\u200b", "")


def readable(text: str) -> str:
    return html.unescape(text).replace("\u200b", "")


@pytest.fixture
def quick_refresh(monkeypatch):
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.2))


def test_one_post_slack_cannot_take_never_holds_back_the_others(bot, fake_slack, db):
    bot.runtime.worker.stop()  # all three wait in the outbox, as in one pass
    bot.slack.command("lesson " + escaped(GROWING), channel="C_ONE")
    bot.slack.command("win second", channel="C_TWO")
    bot.slack.command("win third", channel="C_THREE")
    bot.runtime.worker.start()
    bot.settle()

    posts = {c.body["channel"]: c for c in fake_slack.succeeded("chat.postMessage")}
    assert set(posts) == {"C_ONE", "C_TWO", "C_THREE"}
    long_post = posts["C_ONE"]
    assert GROWING in shown(long_post)  # all of it, in sections Slack takes
    assert GROWING in readable(long_post.body["text"])  # the notification's text too
    assert "<!here>" not in str(long_post.body) and "@here" not in str(long_post.body)
    with db.session() as session:
        assert all(session.scalars(select(Entry.message_ts)).all())


def test_text_that_cannot_fit_in_blocks_is_posted_whole_as_the_message_text(
        bot, fake_slack, db):
    typed = "&" * 1500 + "<" * 1500  # 13,500 characters once escaped
    bot.slack.command("lesson " + escaped(typed))
    bot.settle()
    [post] = fake_slack.succeeded("chat.postMessage")
    assert typed in readable(post.body["text"])
    assert "Lesson" in post.body["text"] and "ID 1" in post.body["text"]
    assert "<<" not in post.body["text"]  # escaped: nothing Slack would read as markup


def test_a_card_debrief_of_long_entries_is_posted_within_slacks_limits(
        bot, fake_slack, db, quick_refresh):
    from tests.test_cards import open_card

    card, _ = open_card(bot, fake_slack, db)
    with db.session() as session:  # thirty long lessons on the card, as if logged there
        for n in range(30):
            session.add(Entry(team_id="T0001", channel_id="C_TEAM", author_id="U_BOB",
                              kind="lesson", text=f"lesson {n} " + "&<" * 1400,
                              visibility="team", card_id=card.id, tags=""))
        session.commit()
    assert "Closed card" in bot.slack.command(f"close {card.id}").text
    bot.settle()
    fake_slack.wait_until(lambda: any("Debrief of" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")),
                          what="the debrief")
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if not c.ok]
    debrief = next(c for c in fake_slack.succeeded("chat.postMessage")
                   if "Debrief of" in c.blocks_text())
    text = debrief.blocks_text()
    assert "lesson 0" in text
    assert "more not shown: `/debrief export` has them all" in text  # what did not fit


def test_a_digest_of_long_learnings_is_posted_within_slacks_limits(bot, fake_slack, db):
    with db.session() as session:
        for n in range(5):
            entry = Entry(team_id="T0001", channel_id="C_TEAM", author_id="U_BOB",
                          kind="lesson", text=f"org lesson {n} " + "<&>" * 990,
                          visibility="org", tags="", message_channel_id="C_TEAM",
                          message_ts=f"1700000{n:03d}.000100")
            session.add(entry)
            session.flush()
            session.add(Applause(team_id="T0001", channel_id="C_TEAM",
                                 message_ts=entry.message_ts, reactor_id="U_FAN",
                                 emoji="tada", author_id="U_BOB", entry_id=entry.id,
                                 created_at=utcnow() - timedelta(days=1)))
        session.commit()
    fake_slack.users["U_ALICE"] = {"id": "U_ALICE", "name": "alice", "is_admin": True}
    bot.slack.command("digest <#C_LEARN> weekly mon 09:00")  # an admin's to set
    due_now(db)
    assert post_due_digests(bot.runtime) == 1
    bot.settle()
    [post] = fake_slack.succeeded("chat.postMessage")
    assert post.body["channel"] == "C_LEARN"
    assert all(f"org lesson {n}" in post.blocks_text() for n in range(5))
    assert post.blocks_text().count("|open>") == 5  # each links to the whole entry


def test_the_rotation_dm_with_long_ideas_is_sent_within_slacks_limits(bot, fake_slack, db):
    fake_slack.users.update({u: {"id": u, "deleted": False, "tz": "Europe/Berlin"}
                             for u in ("U_ANA", "U_BEN", "U_CAM")})
    with db.session() as session:
        for n in range(3):
            session.add(Entry(team_id="T0001", channel_id="C_TEAM", author_id="U_ANA",
                              kind="lesson", text=f"idea {n} " + "<>" * 1400,
                              visibility="team", tags=""))
        session.commit()
    rotation_due(db)
    assert send_rotation_reminders(bot.runtime) == 1
    bot.settle()
    dm = [c for c in fake_slack.calls_to("chat.postMessage") if c.body["channel"] == "U_ANA"]
    assert [c.ok for c in dm] == [True]
    assert all(f"idea {n}" in dm[0].blocks_text() for n in range(3))


def test_any_failure_sending_one_row_is_that_rows_alone(bot, fake_slack, db, monkeypatch):
    monkeypatch.setattr(retry, "MAX_FAULTS", 3, raising=False)
    render = entry_sender.entry_message

    def cursed(entry, *args):  # a bug that only this entry's message trips over
        if "cursed" in entry.text:
            raise RuntimeError("a bug in drawing the message")
        return render(entry, *args)

    monkeypatch.setattr(entry_sender, "entry_message", cursed)
    bot.runtime.worker.stop()
    bot.slack.command("win cursed one", channel="C_ONE")
    bot.slack.command("win fine one", channel="C_TWO")
    bot.runtime.worker.start()
    bot.settle()
    posted = [c.body["channel"] for c in fake_slack.succeeded("chat.postMessage")]
    assert "C_TWO" in posted and "C_ONE" not in posted  # (its author may be told already)
    with db.session() as session:
        row = session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel_id == "C_ONE")).one()
        assert row.attempts >= 1 and "RuntimeError" in row.last_error  # counted

    # It keeps failing: in the end it is given up on, and its author is told.
    fake_slack.wait_until(lambda: any(c.body["channel"] == "U_ALICE" for c in
                                      fake_slack.succeeded("chat.postMessage")),
                          what="the author told")
    bot.settle()
    with db.session() as session:
        row = session.get(OutboxMessage, row.id)
        assert (row.status, row.attempts, row.faults) == ("failed", 3, 3)
    [told] = [c for c in fake_slack.succeeded("chat.postMessage")
              if c.body["channel"] == "U_ALICE"]
    assert "I could not post your entry (ID 1)" in told.body["text"]
    assert "It is saved" in told.body["text"]
