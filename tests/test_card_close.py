"""Closing a card posts its debrief; applause finds who a card's message belongs to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Applause, Card, Entry, OutboxMessage
from bot.ids import OutboxAction
from bot.services import cards
from tests.kit.slack_requests import reaction
from tests.test_cards import add_from_card, card_row, open_card, updates_showing
from tests.test_outbox import outbox_rows


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch):
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.2))


def posted_entries(db) -> dict[str, Entry]:
    with db.session() as session:
        return {e.text: e for e in session.scalars(select(Entry))}


def applaud(db, entry_or_card, *reactors: str) -> None:
    """Applause rows as the applause listener stores them."""
    with db.session() as session:
        for reactor in reactors:
            is_card = isinstance(entry_or_card, Card)
            session.add(Applause(
                team_id="T0001", channel_id="C_TEAM", message_ts=entry_or_card.message_ts,
                reactor_id=reactor, emoji="clap",
                author_id=entry_or_card.opened_by if is_card else entry_or_card.author_id,
                entry_id=None if is_card else entry_or_card.id))
        session.commit()


def debrief_post(fake_slack):
    fake_slack.wait_until(lambda: any("Debrief of" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")),
                          what="the debrief")
    return next(c for c in fake_slack.succeeded("chat.postMessage")
                if "Debrief of" in c.blocks_text())


def test_closing_posts_the_debrief_by_kind_most_applauded_first(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    for kind, text in [("lesson", "lesson quiet"), ("win", "win quiet"),
                       ("opportunity", "opp one"), ("win", "win loved"),
                       ("lesson", "lesson loved")]:
        add_from_card(bot, fake_slack, card, kind, text, user="U_BOB")
    fake_slack.wait_until(lambda: all(e.message_ts for e in posted_entries(db).values()),
                          timeout=15, what="every entry posted")
    entries = posted_entries(db)
    applaud(db, entries["win loved"], "U_A", "U_B", "U_C")
    applaud(db, entries["lesson loved"], "U_A")
    applaud(db, card, "U_D")

    answer = bot.slack.command("close launch the NEW checkout")  # by title, any case

    assert "Closed card 1" in answer.text
    post = debrief_post(fake_slack)
    assert post.body["thread_ts"] == card.message_ts
    assert post.body["reply_broadcast"] in (True, "true", "1", 1)
    text = post.blocks_text()
    order = ["Wins (2)", "win loved", "win quiet", "Opportunities (1)", "opp one",
             "Lessons (2)", "lesson loved", "lesson quiet"]
    positions = [text.index(words) for words in order]
    assert positions == sorted(positions)
    assert ":clap: 3" in text and "<@U_BOB>" in text
    assert ":clap: 1 on the card itself" in text


def test_closing_turns_the_card_message_into_a_closed_card(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    bot.slack.command(f"close #{card.id}")
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "Closed by"))
    update = updates_showing(fake_slack, "Closed by")[-1]
    assert update.body["ts"] == card.message_ts
    assert not [b for b in update.body["blocks"] if b["type"] == "actions"]
    closed = card_row(db)
    assert (closed.status, closed.closed_by) == ("closed", "U_ALICE")
    assert closed.closed_at is not None
    assert "Nothing was logged on this card" in debrief_post(fake_slack).blocks_text()


def test_closing_twice_says_so_and_posts_one_debrief(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    assert "Closed card" in bot.slack.command("close 1").text
    again = bot.slack.command("close 1")
    assert again.text.startswith(":warning:") and "already closed" in again.text
    debrief_post(fake_slack)
    bot.settle()
    with db.session() as session:
        debriefs = session.scalars(select(OutboxMessage).where(
            OutboxMessage.action == OutboxAction.POST_CARD_DEBRIEF)).all()
    assert len(debriefs) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage")
                if "Debrief of" in c.blocks_text()]) == 1


@pytest.mark.parametrize(("typed", "says"), [
    ("close", "Which card?"),
    ("close 99", "no card with that ID or title"),
    ("close Nonexistent thing", "no card with that ID or title"),
])
def test_closing_an_unknown_card_changes_nothing(bot, fake_slack, db, typed, says):
    card, _ = open_card(bot, fake_slack, db)
    answer = bot.slack.command(typed)
    assert answer.text.startswith(":warning:") and says in answer.text
    assert card_row(db).status == "open"


def test_a_card_from_another_workspace_cannot_be_closed(bot, fake_slack, db):
    open_card(bot, fake_slack, db)
    # Single-workspace mode serves its own workspace only: the request is refused.
    answer = bot.slack.command("close 1", team="T_OTHER", user="U_EVE")
    assert answer.status == 200 and "Debrief of" not in answer.text
    [told] = fake_slack.wait_for("response_url")
    assert "not installed in this workspace" in told.body["text"]
    assert card_row(db).status == "open"


def test_two_open_cards_cannot_share_a_title_in_a_channel(bot, fake_slack, db):
    open_card(bot, fake_slack, db, title="Alpha")
    answer = bot.slack.command("card alpha")
    assert answer.text.startswith(":warning:") and "already has an open card" in answer.text
    bot.slack.command("close alpha")
    assert "Opened card 2" in bot.slack.command("card Alpha").text


def test_applause_refreshes_the_cards_tally(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    add_from_card(bot, fake_slack, card, "win", "clap for me", user="U_BOB")
    fake_slack.wait_until(lambda: posted_entries(db)["clap for me"].message_ts is not None)
    entry = posted_entries(db)["clap for me"]
    for reactor, message in (("U_A", entry), ("U_B", entry), ("U_C", card)):
        assert bot.slack.event(reaction("reaction_added", user=reactor, channel="C_TEAM",
                                        ts=message.message_ts, emoji="clap")).status == 200
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "3 applause"))
    for reactor, message in (("U_A", entry), ("U_C", card)):  # taken back: so is the tally
        assert bot.slack.event(reaction("reaction_removed", user=reactor, channel="C_TEAM",
                                        ts=message.message_ts, emoji="clap")).status == 200
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "1 applause"))


def test_deleting_an_entry_on_a_card_refreshes_its_tally(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    add_from_card(bot, fake_slack, card, "lesson", "soon gone")
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "1 lesson"))
    fake_slack.wait_until(lambda: posted_entries(db)["soon gone"].message_ts is not None)
    assert "Deleted entry" in bot.slack.command("delete 1").text
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "0 lessons"))
    fake_slack.wait_for("chat.delete")  # its reply leaves the thread too


def test_a_card_that_could_never_be_posted_still_gets_its_debrief(bot, fake_slack, db):
    bot.runtime.worker.stop()  # the card is closed before its post is even tried
    assert "Opened card 1" in bot.slack.command("card Never shown").text
    assert "Closed card 1" in bot.slack.command("close 1").text
    fake_slack.fail("chat.postMessage", error="not_allowed_token_type")  # the card's post
    bot.runtime.worker.start()

    post = debrief_post(fake_slack)  # in the channel: there is no thread to put it in
    assert post.body["channel"] == "C_TEAM" and "thread_ts" not in post.body
    fake_slack.wait_until(lambda: not [r for r in outbox_rows(db) if r.status == "pending"],
                          what="nothing left waiting")
    [dm] = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "U_ALICE"]
    assert "I could not post your card (ID 1)" in dm.body["text"]
    assert {r.action: r.status for r in outbox_rows(db)} == {
        OutboxAction.POST_CARD: "failed", OutboxAction.UPDATE_CARD: "sent",  # nothing to update
        OutboxAction.POST_CARD_DEBRIEF: "sent", OutboxAction.NOTIFY_USER: "sent"}
