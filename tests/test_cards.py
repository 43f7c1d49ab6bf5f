"""Deliverable cards: the card message, its buttons, entries in its thread, tallies."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Applause, Card, Entry, OutboxMessage
from bot.ids import OutboxAction
from bot.services import cards
from tests.kit.slack_requests import fill, reaction


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch):
    # Refreshes wait this long for more changes; short, so the tests stay fast.
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.3))


def card_row(db, card_id: int = 1) -> Card | None:
    with db.session() as session:
        return session.get(Card, card_id)


def open_card(bot, fake_slack, db, title: str = "Launch the new checkout", **kw):
    """Open a card and wait until its message is posted and recorded; its post call."""
    answer = bot.slack.command(f"card {title}", **kw)
    assert "Opened card" in answer.text, answer.text
    card_id = int(answer.text.split("Opened card ")[1].split(",")[0])
    fake_slack.wait_until(lambda: (card_row(db, card_id) or Card()).message_ts is not None,
                          what="the card's message")
    posts = [c for c in fake_slack.succeeded("chat.postMessage")
             if c.body.get("blocks") and c.body["blocks"][0].get("block_id") == "card"]
    return card_row(db, card_id), posts[-1]


def add_from_card(bot, fake_slack, card: Card, kind: str, text: str, user="U_ALICE",
                  **answers) -> dict:
    """Press the card's "Add KIND" button and submit the modal it opens."""
    before = len(fake_slack.calls_to("views.open"))
    bot.slack.block_action({"action_id": f"card_add_{kind}", "value": str(card.id),
                            "block_id": "card_add"}, user=user, channel=card.channel_id,
                           message={"ts": card.message_ts, "text": ""})
    view = fake_slack.wait_for("views.open", before + 1)[before].body["view"]
    answer = bot.slack.view_submission(view, fill(view, {"text": text, **answers}), user=user)
    assert answer.status == 200 and b"errors" not in answer.body, answer.body
    return view


def updates_showing(fake_slack, words: str) -> list:
    return [c for c in fake_slack.succeeded("chat.update") if words in c.blocks_text()]


def test_a_card_is_posted_with_title_tallies_and_its_buttons(bot, fake_slack, db):
    card, post = open_card(bot, fake_slack, db)
    assert post.body["channel"] == "C_TEAM"
    blocks = post.body["blocks"]
    assert "*Launch the new checkout*" in blocks[0]["text"]["text"]
    text = post.blocks_text()
    assert "0 wins" in text and "0 opportunities" in text and "0 lessons" in text
    assert "0 applause" in text
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    # One per kind, then who it asks (tests/test_collaborators.py).
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("card_add_win", "1"), ("card_add_opportunity", "1"), ("card_add_lesson", "1"),
        ("card_join", "1"), ("card_leave", "1"), ("card_who", "1")]
    assert card.message_ts is not None  # recorded: applause on it will be found


@pytest.mark.parametrize(("typed", "says"), [
    ("card", "needs a title"),
    ("card    ", "needs a title"),
    ("card " + "t" * 151, "151 characters"),
])
def test_a_card_needs_a_title_of_at_most_150_characters(bot, fake_slack, db, typed, says):
    answer = bot.slack.command(typed)
    assert answer.text.startswith(":warning:") and says in answer.text
    if len(typed) > 150:
        assert "t" * 151 in answer.text  # handed back, nothing lost
    with db.session() as session:
        assert session.scalars(select(Card)).all() == []
        assert session.scalars(select(OutboxMessage)).all() == []


def test_150_characters_make_a_card(bot, fake_slack, db):
    card, post = open_card(bot, fake_slack, db, title="x" * 150)
    assert card.title == "x" * 150
    assert "x" * 150 in post.body["blocks"][0]["text"]["text"]


def test_a_title_cannot_ping_anyone(bot, fake_slack, db):
    card, post = open_card(bot, fake_slack, db, title="<!channel> ship it @here")
    assert "<!channel>" not in json.dumps(post.body)
    assert card.title == "@channel ship it @here"  # as typed: Slack sent @channel as markup


def test_the_buttons_open_the_modal_with_card_and_kind_chosen(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    view = add_from_card(bot, fake_slack, card, "lesson", "Feature flags saved us #flags")
    kind = next(b for b in view["blocks"] if b["block_id"] == "kind")
    assert kind["element"]["initial_option"]["value"] == "lesson"
    choice = next(b for b in view["blocks"] if b["block_id"] == "card")
    assert choice["element"]["initial_option"]["value"] == str(card.id)
    assert json.loads(view["private_metadata"]) == {"channel_id": "C_TEAM", "card_id": card.id}
    with db.session() as session:
        entry = session.scalars(select(Entry)).one()
    assert (entry.card_id, entry.kind, entry.source) == (card.id, "lesson", "modal")


def test_entries_for_a_card_are_replies_in_its_thread(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    add_from_card(bot, fake_slack, card, "win", "Checkout p95 halved")
    fake_slack.wait_until(lambda: any("Checkout p95 halved" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")))
    reply = next(c for c in fake_slack.succeeded("chat.postMessage")
                 if "Checkout p95 halved" in c.blocks_text())
    assert reply.body["thread_ts"] == card.message_ts
    assert reply.body["channel"] == "C_TEAM"
    assert "Launch the new checkout" in reply.blocks_text()  # the entry names its card
    confirm = fake_slack.wait_for("chat.postEphemeral")[0]
    assert "will be posted in its card's thread" in confirm.body["text"]


def test_slash_debrief_offers_the_channels_open_cards(bot, fake_slack, db):
    open_card(bot, fake_slack, db, title="Alpha")
    open_card(bot, fake_slack, db, title="Beta")
    open_card(bot, fake_slack, db, title="Elsewhere", channel="C_OTHER")
    bot.slack.command("close alpha")
    bot.slack.command("")
    view = fake_slack.wait_for("views.open")[0].body["view"]
    choice = next(b for b in view["blocks"] if b["block_id"] == "card")
    labels = [o["text"]["text"] for o in choice["element"]["options"]]
    assert labels == ["No card", "Beta (card 2)"]
    assert "initial_option" not in choice["element"]


def test_the_modal_without_open_cards_has_no_card_field(bot, fake_slack):
    bot.slack.command("")
    view = fake_slack.wait_for("views.open")[0].body["view"]
    assert "card" not in [b["block_id"] for b in view["blocks"]]


def test_tallies_are_kept_current(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    add_from_card(bot, fake_slack, card, "win", "one")
    add_from_card(bot, fake_slack, card, "opportunity", "two")
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "1 opportunity"),
                          what="a refreshed tally")
    update = updates_showing(fake_slack, "1 opportunity")[-1]
    assert (update.body["channel"], update.body["ts"]) == ("C_TEAM", card.message_ts)
    assert "1 win" in update.blocks_text() and "0 lessons" in update.blocks_text()


def test_a_burst_of_entries_costs_few_updates(bot, fake_slack, db, monkeypatch):
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=2))  # the default
    card, _ = open_card(bot, fake_slack, db)
    bot.slack.block_action({"action_id": "card_add_lesson", "value": str(card.id)},
                           message={"ts": card.message_ts, "text": ""})
    view = fake_slack.wait_for("views.open")[0].body["view"]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda n: bot.slack.view_submission(
            view, fill(view, {"text": f"lesson {n}"})), range(12)))
    assert all(a.status == 200 for a in answers)
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "12 lessons"),
                          what="the tally of the whole burst")
    bot.settle()
    assert len(fake_slack.calls_to("chat.update")) <= 2  # not one per entry
    with db.session() as session:
        refreshes = session.scalars(select(OutboxMessage).where(
            OutboxMessage.action == OutboxAction.UPDATE_CARD)).all()
        assert len(refreshes) <= 2
        assert session.get(Card, card.id).shown_revision == session.get(Card, card.id).revision


def test_private_entries_never_appear_on_a_card(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    add_from_card(bot, fake_slack, card, "lesson", "my secret doubt", visibility="private")
    add_from_card(bot, fake_slack, card, "win", "public win")
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "1 win"))
    bot.slack.command(f"close {card.id}")
    fake_slack.wait_until(lambda: any("Debrief" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")))
    bot.settle()
    everything = json.dumps([c.body for c in fake_slack.calls])
    assert "my secret doubt" not in everything
    assert all("1 lesson" not in c.blocks_text() for c in fake_slack.calls_to("chat.update"))


def test_anonymous_entries_show_no_author_on_the_card(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db, user="U_BOB")
    add_from_card(bot, fake_slack, card, "lesson", "I skipped the review", anonymous=["yes"])
    bot.slack.command(f"close {card.id}", user="U_BOB")
    fake_slack.wait_until(lambda: any("Debrief" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")))
    bot.settle()
    for call in fake_slack.calls_to("chat.postMessage") + fake_slack.calls_to("chat.update"):
        assert "U_ALICE" not in json.dumps(call.body)
    debrief = next(c for c in fake_slack.succeeded("chat.postMessage")
                   if "Debrief" in c.blocks_text())
    assert "I skipped the review — anonymous" in debrief.blocks_text()


def test_a_card_closed_meanwhile_keeps_the_modal_open_with_an_error(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    bot.slack.block_action({"action_id": "card_add_win", "value": str(card.id)},
                           message={"ts": card.message_ts, "text": ""})
    view = fake_slack.wait_for("views.open")[0].body["view"]
    bot.slack.command(f"close {card.id}")
    answer = bot.slack.view_submission(view, fill(view, {"text": "late win"}))
    assert answer.json()["response_action"] == "errors"
    assert "was closed" in answer.json()["errors"]["card"]
    # "No card" saves it in the channel instead: nothing is lost.
    answer = bot.slack.view_submission(view, fill(view, {"text": "late win", "card": "none"}))
    assert answer.status == 200 and b"errors" not in answer.body
    with db.session() as session:
        assert session.scalars(select(Entry.card_id)).all() == [None]


def test_an_entry_waits_for_its_cards_message(bot, fake_slack, db):
    fake_slack.fail("chat.postMessage", status=500)  # the card's post fails once
    bot.slack.command("card Retry me")
    bot.slack.command("")
    view = fake_slack.wait_for("views.open")[0].body["view"]
    bot.slack.view_submission(view, fill(view, {"kind": "win", "text": "patient", "card": "1"}))
    fake_slack.wait_until(lambda: any("patient" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")))
    reply = next(c for c in fake_slack.succeeded("chat.postMessage")
                 if "patient" in c.blocks_text())
    card = card_row(db)
    assert card.message_ts and reply.body["thread_ts"] == card.message_ts
    assert len([c for c in fake_slack.succeeded("chat.postMessage")
                if "Retry me" in c.blocks_text() and "thread_ts" not in c.body]) == 1


def test_a_change_while_an_update_is_in_flight_is_shown_after_it(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    gate = fake_slack.hold("chat.update")  # Slack is slow to answer the first refresh
    add_from_card(bot, fake_slack, card, "lesson", "first")
    fake_slack.wait_for("chat.update")
    add_from_card(bot, fake_slack, card, "lesson", "second")
    gate.set()
    fake_slack.wait_until(lambda: updates_showing(fake_slack, "2 lessons"),
                          what="the second entry on the card")


def test_applause_elsewhere_costs_no_update(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    bot.slack.command("win not on a card")
    fake_slack.wait_until(lambda: len(fake_slack.succeeded("chat.postMessage")) == 2)
    bot.settle()  # let the pass that posted it record the message ts
    ts = fake_slack.succeeded("chat.postMessage")[1].response["ts"]
    assert bot.slack.event(reaction("reaction_added", user="U_BOB", channel="C_TEAM", ts=ts,
                                    emoji="tada")).status == 200
    with db.session() as session:
        assert session.scalars(select(Applause)).one().message_ts == ts  # it did count
        assert session.scalars(select(OutboxMessage).where(
            OutboxMessage.action == OutboxAction.UPDATE_CARD)).all() == []


def test_applause_on_a_card_message_counts_for_its_opener_and_refreshes_it(bot, fake_slack, db):
    from sqlalchemy import select

    from bot.db.models import Applause
    from tests.kit.slack_requests import reaction

    bot.slack.command("card Launch the beta", user="U_ALICE")
    card_post = fake_slack.wait_for("chat.postMessage")[0]
    bot.settle()
    ts = card_post.response["ts"]
    assert bot.slack.event(reaction("reaction_added", user="U_BOB", channel="C_TEAM", ts=ts,
                                    emoji="tada")).status == 200
    with db.session() as session:
        [row] = session.scalars(select(Applause)).all()
    assert (row.author_id, row.reactor_id, row.entry_id) == ("U_ALICE", "U_BOB", None)
    update = fake_slack.wait_for("chat.update")[-1]
    assert update.body["ts"] == ts


def test_a_card_in_another_channel_cannot_be_closed_or_named_from_here(bot, fake_slack, db):
    elsewhere, _ = open_card(bot, fake_slack, db, "Secret merger plan", channel="C_PRIVATE")
    answer = bot.slack.command(f"close {elsewhere.id}", user="U_MALLORY", channel="C_TEAM")
    assert "no card with that ID or title in this channel" in answer.text
    assert "Secret merger plan" not in answer.text
    assert card_row(db, elsewhere.id).status == "open"


def test_a_title_is_stored_as_typed_from_slacks_escaped_text(bot, fake_slack, db):
    # Typed: R&D <beta> with @bob today — Slack escapes the literal characters and links
    # the user. (Mentions that end the title name its collaborators: test_collaborators.py.)
    card, post = open_card(bot, fake_slack, db,
                           "R&amp;D &lt;beta&gt; with <@U0BOB|bob> today")
    assert card.title == "R&D <beta> with @bob today"
    assert "R&amp;D &lt;beta&gt; with @bob today" in json.dumps(post.body["blocks"])
    assert "&amp;amp;" not in json.dumps(post.body)
    assert "Closed card" in bot.slack.command(
        "close r&amp;d &lt;beta&gt; with <@U0BOB|bob> today").text


def test_a_card_slack_refuses_is_closed_so_it_can_be_opened_again(bot, fake_slack, db):
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    bot.slack.command("card Launch plan")
    dm = fake_slack.wait_for("chat.postMessage", 2)[1]
    assert "open it again with `/debrief card`" in dm.body["text"]
    bot.settle()
    assert card_row(db, 1).status == "closed"
    card, _post = open_card(bot, fake_slack, db, "Launch plan")  # the title is free again
    assert card.id == 2
