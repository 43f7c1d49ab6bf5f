"""An entry message's ⋯ menu: its author edits or deletes the entry; nobody else can, and
an anonymous entry's menu tells nobody who wrote it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Applause, Entry
from bot.services import cards
from tests.kit.slack_requests import fill, reaction
from tests.test_cards import add_from_card, open_card


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch):
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.2))


def posted(bot, fake_slack, db, command: str, user: str = "U_ALICE") -> tuple[Entry, dict]:
    """Log an entry with `command` and wait until its message is posted and recorded."""
    before = len(fake_slack.succeeded("chat.postMessage"))
    assert "Saved" in bot.slack.command(command, user=user).text
    post = fake_slack.wait_for("chat.postMessage", before + 1)[before]
    bot.settle()
    with db.session() as session:
        entry = session.scalars(select(Entry).order_by(Entry.id.desc())).first()
    message = {"ts": entry.message_ts, "text": post.body["text"],
               "blocks": post.body["blocks"]}
    return entry, message


def menu_of(message: dict) -> dict:
    return message["blocks"][0]["accessory"]


def press(bot, message: dict, choice: str, user: str = "U_ALICE"):
    """Pick Edit or Delete in the message's menu, as `user`."""
    option = next(o for o in menu_of(message)["options"] if o["value"].startswith(choice))
    return bot.slack.overflow(menu_of(message)["action_id"], option["value"],
                              message=message, user=user)


def opened_form(fake_slack, before: int) -> dict:
    return fake_slack.wait_for("views.open", before + 1)[before].body["view"]


def stored(db, entry_id: int) -> Entry | None:
    with db.session() as session:
        return session.get(Entry, entry_id)


def test_every_entry_message_has_the_same_edit_and_delete_menu(bot, fake_slack, db):
    _, named = posted(bot, fake_slack, db, "win shipped it")
    view = {"kind": "lesson", "text": "secret lesson", "anonymous": ["yes"]}
    bot.slack.command("")
    form = fake_slack.wait_for("views.open")[0].body["view"]
    bot.slack.view_submission(form, fill(form, view))
    fake_slack.wait_for("chat.postMessage", 2)
    bot.settle()
    anonymous = fake_slack.succeeded("chat.postMessage")[1].body
    labels = [[o["text"]["text"] for o in menu_of(m)["options"]]
              for m in (named, anonymous)]
    assert labels == [["Edit (its author)", "Delete (its author)"]] * 2
    assert "U_ALICE" not in json.dumps(menu_of(anonymous))  # the menu names nobody


def test_the_author_edits_the_text_and_the_message_keeps_its_applause(bot, fake_slack, db):
    entry, message = posted(bot, fake_slack, db, "lesson Pin the base image #docker")
    bot.slack.event(reaction("reaction_added", user="U_BOB", channel="C_TEAM",
                             ts=entry.message_ts))
    bot.settle()

    assert press(bot, message, "edit").status == 200
    form = opened_form(fake_slack, 0)
    assert form["callback_id"] == "debrief_entry_edit"
    field = next(b for b in form["blocks"] if b["type"] == "input")["element"]
    assert field["initial_value"] == "Pin the base image #docker"  # the text to change

    answer = bot.slack.view_submission(form, fill(form, {
        "text": "Pin the base image and the lockfile #docker #supply-chain"}))
    assert answer.json()["response_action"] == "update"
    assert "saved" in json.dumps(answer.json()["view"])

    edited = stored(db, entry.id)
    assert edited.text == "Pin the base image and the lockfile #docker #supply-chain"
    assert edited.tag_names == ["docker", "supply-chain"]  # #tags follow the text
    assert edited.message_ts == entry.message_ts
    [update] = fake_slack.wait_for("chat.update")
    bot.settle()
    assert (update.body["channel"], update.body["ts"]) == ("C_TEAM", entry.message_ts)
    assert "and the lockfile" in update.blocks_text()
    assert "#supply-chain" in update.blocks_text()
    assert fake_slack.calls_to("chat.postMessage")[1:] == []  # no new message
    with db.session() as session:  # the same message: its applause stays
        assert [a.entry_id for a in session.scalars(select(Applause))] == [entry.id]

    # Search follows the new words, and no longer finds the words taken out.
    found = bot.slack.command("search lockfile").text
    assert "and the lockfile" in found
    assert "supply" in bot.slack.command("search #supply-chain").text
    assert "Nothing found" not in found


def test_search_forgets_words_an_edit_took_out(bot, fake_slack, db):
    entry, message = posted(bot, fake_slack, db, "lesson the flaky canary taught us")
    assert "canary" in bot.slack.command("search canary").text  # indexed
    press(bot, message, "edit")
    form = opened_form(fake_slack, 0)
    bot.slack.view_submission(form, fill(form, {"text": "the flaky rollout taught us"}))
    assert "Nothing found" in bot.slack.command("search canary").text
    assert "rollout" in bot.slack.command("search rollout").text


@pytest.mark.parametrize("text, says", [
    ("   ", "nothing to log"),
    ("x" * 3001, "3,001 characters"),
])
def test_a_bad_edit_keeps_the_form_open_and_changes_nothing(bot, fake_slack, db, text, says):
    entry, message = posted(bot, fake_slack, db, "win the original words")
    press(bot, message, "edit")
    form = opened_form(fake_slack, 0)
    answer = bot.slack.view_submission(form, fill(form, {"text": text}))
    # The form stays open with what was typed in it; the error is on its field.
    assert answer.json()["response_action"] == "errors"
    assert says in answer.json()["errors"]["text"]
    assert stored(db, entry.id).text == "the original words"
    bot.settle()
    assert fake_slack.calls_to("chat.update") == []


def test_nobody_else_can_edit_or_delete_and_the_refusal_names_nobody(bot, fake_slack, db):
    bot.slack.command("")
    form = fake_slack.wait_for("views.open")[0].body["view"]
    bot.slack.view_submission(form, fill(form, {
        "kind": "opportunity", "text": "I shipped without tests", "anonymous": ["yes"]}),
        user="U_GRACE")
    post = fake_slack.wait_for("chat.postMessage")[0]
    bot.settle()
    entry = stored(db, 1)
    message = {"ts": entry.message_ts, "text": post.body["text"],
               "blocks": post.body["blocks"]}
    opened = len(fake_slack.calls_to("views.open"))
    # Grace was told hers is saved, and (an opportunity) when she will be asked about it.
    told = len(fake_slack.calls_to("chat.postEphemeral"))

    refusals = []
    for choice in ("edit", "delete"):
        assert press(bot, message, choice, user="U_MALLORY").status == 200
        refusals.append(fake_slack.wait_for("chat.postEphemeral",
                                            told + len(refusals) + 1)[-1])
    for refusal in refusals:
        assert refusal.body["user"] == "U_MALLORY"
        assert "Only the person who wrote an entry" in refusal.body["text"]
        assert "U_GRACE" not in refusal.body["text"]
    assert len(fake_slack.calls_to("views.open")) == opened  # no form for them
    assert stored(db, entry.id).text == "I shipped without tests"

    # A forged submission of the form is refused too, when it arrives.
    forged = {"type": "modal", "callback_id": "debrief_entry_edit",
              "private_metadata": json.dumps({"entry_id": entry.id}),
              "blocks": [{"type": "input", "block_id": "text", "label": {
                  "type": "plain_text", "text": "x"}, "element": {
                  "type": "plain_text_input", "action_id": "text_input"}}]}
    answer = bot.slack.view_submission(forged, fill(forged, {"text": "defaced"}),
                                       user="U_MALLORY")
    assert answer.json()["response_action"] == "errors"
    assert "U_GRACE" not in answer.body.decode()
    delete = {**forged, "callback_id": "debrief_entry_delete", "blocks": []}
    bot.slack.view_submission(delete, {}, user="U_MALLORY")
    assert stored(db, entry.id).text == "I shipped without tests"


def test_delete_asks_first_then_deletes_like_the_command(bot, fake_slack, db):
    entry, message = posted(bot, fake_slack, db, "win to be deleted")
    bot.slack.event(reaction("reaction_added", user="U_BOB", channel="C_TEAM",
                             ts=entry.message_ts))
    press(bot, message, "delete")
    form = opened_form(fake_slack, 0)
    assert form["callback_id"] == "debrief_entry_delete"
    assert "to be deleted" in json.dumps(form)
    assert stored(db, entry.id) is not None  # nothing yet: it asks first

    answer = bot.slack.view_submission(form, {})
    assert "Deleted entry" in json.dumps(answer.json()["view"])
    assert stored(db, entry.id) is None
    deletion = fake_slack.wait_for("chat.delete")[0]
    assert (deletion.body["channel"], deletion.body["ts"]) == ("C_TEAM", entry.message_ts)
    with db.session() as session:
        assert session.scalars(select(Applause)).all() == []

    again = bot.slack.view_submission(form, {})  # a second tab: already gone
    assert "not there any more" in json.dumps(again.json()["view"])


def test_an_edit_while_the_post_is_still_on_its_way_shows_in_it(bot, fake_slack, db):
    gate = fake_slack.hold("chat.postMessage")  # Slack is slow: the post is in flight
    bot.slack.command("win first words")
    fake_slack.wait_for("chat.postMessage")
    with db.session() as session:
        from bot.services import entries
        entries.edit_entry(session, "T0001", "U_ALICE", 1, "second words")
        session.commit()
    bot.runtime.worker.wake()
    gate.set()
    fake_slack.wait_for("chat.update")
    bot.settle()
    [update] = fake_slack.succeeded("chat.update")
    assert "second words" in update.blocks_text()
    assert update.body["ts"] == stored(db, 1).message_ts


def test_editing_an_entry_of_a_closed_card_redraws_its_debrief(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    add_from_card(bot, fake_slack, card, "lesson", "measure before you tune")
    fake_slack.wait_until(lambda: (stored(db, 1) or Entry()).message_ts is not None)
    bot.slack.command(f"close {card.id}")
    fake_slack.wait_until(lambda: any("Debrief of" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")))
    bot.settle()
    debrief = next(c for c in fake_slack.succeeded("chat.postMessage")
                   if "Debrief of" in c.blocks_text())
    debrief_ts = debrief.response["ts"]

    with db.session() as session:
        from bot.services import entries
        entries.edit_entry(session, "T0001", "U_ALICE", 1, "measure twice before you tune")
        session.commit()
    bot.runtime.worker.wake()
    fake_slack.wait_until(lambda: any(c.body.get("ts") == debrief_ts
                                      for c in fake_slack.succeeded("chat.update")),
                          what="the debrief redrawn")
    redrawn = next(c for c in fake_slack.succeeded("chat.update")
                   if c.body.get("ts") == debrief_ts)
    assert "measure twice" in redrawn.blocks_text()
    assert "Debrief of" in redrawn.blocks_text()

    # Deleting it takes it out of the debrief too.
    bot.slack.command("delete 1")
    fake_slack.wait_until(lambda: sum(c.body.get("ts") == debrief_ts
                                      for c in fake_slack.succeeded("chat.update")) == 2,
                          what="the debrief redrawn again")
    last = [c for c in fake_slack.succeeded("chat.update") if c.body.get("ts") == debrief_ts]
    assert "measure" not in last[-1].blocks_text()


def test_forget_me_takes_the_persons_words_out_of_a_posted_debrief(bot, fake_slack, db):
    from tests.test_forget_me import ask

    card, _ = open_card(bot, fake_slack, db)
    add_from_card(bot, fake_slack, card, "lesson", "alice learned to pin versions")
    add_from_card(bot, fake_slack, card, "win", "bob shipped the importer", user="U_BOB")
    fake_slack.wait_until(lambda: all(stored(db, n).message_ts for n in (1, 2)))
    bot.slack.command(f"close {card.id}")
    fake_slack.wait_until(lambda: any("Debrief of" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")))
    bot.settle()
    debrief = next(c for c in fake_slack.succeeded("chat.postMessage")
                   if "Debrief of" in c.blocks_text())
    assert "alice learned" in debrief.blocks_text()

    bot.slack.view_submission(ask(bot, fake_slack), {})
    fake_slack.wait_until(lambda: any(c.body.get("ts") == debrief.response["ts"]
                                      for c in fake_slack.succeeded("chat.update")),
                          what="the debrief redrawn")
    redrawn = [c for c in fake_slack.succeeded("chat.update")
               if c.body.get("ts") == debrief.response["ts"]][-1]
    assert "alice learned" not in redrawn.blocks_text()
    assert "bob shipped the importer" in redrawn.blocks_text()
