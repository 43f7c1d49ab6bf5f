"""/debrief forget-me removes the person's words and name from what the bot posted before:
card debriefs, the cards they opened (and others' posts in those cards' threads), the
digest, and the exports that held their entries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.clock import post_due_digests
from bot.db.models import Applause, Digest, Entry, utcnow
from bot.services import cards
from tests.test_card_close import debrief_post
from tests.test_cards import add_from_card, open_card
from tests.test_export import exported, log_in_modal
from tests.test_forget_me import ask

WORDS = "alices-own-words"
TITLE = "Alices secret rewrite"


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch):
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.2))


def shown_after(fake_slack, start: int) -> list:
    """chat.update calls since `start`: what Slack shows now."""
    return [c for c in fake_slack.succeeded("chat.update")[start:]]


def test_forget_me_redraws_debriefs_cards_digests_and_deletes_exports(bot, fake_slack, db):
    fake_slack.users["U_BOSS"] = {"id": "U_BOSS", "name": "boss", "is_admin": True}
    card, _ = open_card(bot, fake_slack, db, title=TITLE, user="U_ALICE")
    add_from_card(bot, fake_slack, card, "lesson", f"{WORDS} on the card", user="U_ALICE")
    add_from_card(bot, fake_slack, card, "win", "bob's win on the card", user="U_BOB")
    log_in_modal(bot, fake_slack, user="U_ALICE", kind="lesson", text=f"{WORDS} for the org",
                 visibility="org")
    bot.settle()
    fake_slack.wait_until(lambda: all_posted(db), what="every entry posted")
    bot.slack.command("close 1", user="U_ALICE")
    debrief = debrief_post(fake_slack)
    assert WORDS in debrief.blocks_text()
    # The week's digest shows her org lesson; Bob exports the channel.
    assert "will be posted" in bot.slack.command("digest here weekly mon 09:00",
                                                 user="U_BOSS").text
    with db.session() as session:
        org = session.scalars(select(Entry).where(Entry.visibility == "org")).one()
        session.add(Applause(team_id="T0001", channel_id=org.message_channel_id,
                             message_ts=org.message_ts, reactor_id="U_BOB", emoji="tada",
                             author_id="U_ALICE", entry_id=org.id,
                             created_at=utcnow() - timedelta(hours=1)))
        session.execute(update(Digest).values(next_run_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    post_due_digests(bot.runtime)
    fake_slack.wait_until(lambda: digests(fake_slack), what="the digest")  # paced: in turn
    [digest] = digests(fake_slack)
    assert WORDS in digest.blocks_text()
    bot.slack.command("export", user="U_BOB")
    file = exported(fake_slack)
    bot.settle()
    start = len(fake_slack.succeeded("chat.update"))

    modal = ask(bot, fake_slack, user="U_ALICE")
    assert bot.slack.view_submission(modal, {}, user="U_ALICE").status == 200
    fake_slack.wait_until(lambda: fake_slack.calls_to("files.delete"), what="files.delete")
    fake_slack.wait_until(lambda: len(shown_after(fake_slack, start)) >= 4,
                          what="the redraws")
    bot.settle()

    redrawn = {c.body["ts"]: c for c in shown_after(fake_slack, start)}
    for ts in (debrief.response["ts"], digest.response["ts"], card.message_ts):
        assert ts in redrawn, ts
        text = json.dumps(redrawn[ts].body)
        assert WORDS not in text and "U_ALICE" not in text and TITLE not in text
    assert "Untitled card" in json.dumps(redrawn[card.message_ts].body)
    bobs = entry_of(db, "bob's win on the card")
    assert TITLE not in json.dumps(redrawn[bobs.message_ts].body)  # his post named her card
    assert "bob's win" in json.dumps(redrawn[bobs.message_ts].body)
    assert [c.body["file"] for c in fake_slack.calls_to("files.delete")] == [file["id"]]


def all_posted(db) -> bool:
    with db.session() as session:
        return all(e.message_ts for e in session.scalars(select(Entry)))


def entry_of(db, text: str) -> Entry:
    with db.session() as session:
        return session.scalars(select(Entry).where(Entry.text == text)).one()


def digests(fake_slack) -> list:
    return [c for c in fake_slack.succeeded("chat.postMessage")
            if "learnings across" in c.body["text"]]


def test_forget_me_also_deletes_a_copy_posted_again_after_a_lost_reply(bot, fake_slack, db):
    from bot.db.models import OutboxMessage
    from tests.test_forget_me import posted

    posted(bot, fake_slack, f"win {WORDS} once")
    first = fake_slack.succeeded("chat.postMessage")[0].response["ts"]
    # Slack kept the post but its reply was lost: the outbox sends it again.
    with db.session() as session:
        session.execute(update(Entry).values(message_ts=None, message_channel_id=None))
        session.execute(update(OutboxMessage).where(OutboxMessage.action == "post_entry")
                        .values(status="pending", result_ts=None, attempts=1))
        session.commit()
    bot.settle()
    fake_slack.wait_for("chat.postMessage", 2)
    bot.settle()
    assert len([m for m in fake_slack.posts("C_TEAM") if WORDS in m["text"]]) == 2

    modal = ask(bot, fake_slack, user="U_ALICE")
    bot.slack.view_submission(modal, {}, user="U_ALICE")
    fake_slack.wait_until(lambda: not [m for m in fake_slack.posts("C_TEAM")
                                       if WORDS in (m["text"] or "")], what="both copies gone")
    assert first in [c.body["ts"] for c in fake_slack.calls_to("chat.delete")]
