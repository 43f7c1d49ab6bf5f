"""A card asks every collaborator (PRODUCT.md §3): named when it is opened, Join and
Leave, "3 of 5" on the card and never who has not added (names for its opener only), the
close that asks first, and anonymous entries that count for nobody."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import CardCollaborator, Entry, NudgeMute, OutboxMessage
from bot.ids import OutboxAction
from bot.services import cards
from tests.test_cards import add_from_card, card_row, open_card, updates_showing

ANA, BEN, CAM, DEE = "U_ANA", "U_BEN", "U_CAM", "U_DEE"
OPENER = "U_ALICE"


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch):
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.2))


def mention(user: str) -> str:
    return f"<@{user}|{user[2:].lower()}>"  # as Slack escapes a picked @name


def open_with(bot, fake_slack, db, *people: str, title: str = "Launch the new checkout"):
    return open_card(bot, fake_slack, db, f"{title} " + " ".join(mention(p) for p in people))


def on_card(db, card_id: int = 1) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(CardCollaborator.user_id).where(
            CardCollaborator.card_id == card_id).order_by(CardCollaborator.id)))


def press(bot, action: str, card, user: str, channel: str = "C_TEAM"):
    answer = bot.slack.block_action({"action_id": action, "value": str(card.id)}, user=user,
                                    channel=channel, message={"ts": card.message_ts or "1.1",
                                                              "text": ""})
    assert answer.status == 200
    return answer


def ephemerals_to(bot, fake_slack, user: str) -> list[str]:
    bot.settle()
    return [c.body["text"] for c in fake_slack.succeeded("chat.postEphemeral")
            if c.body.get("user") == user]


def card_shows(fake_slack, words: str, timeout: float = 10.0) -> None:
    fake_slack.wait_until(lambda: updates_showing(fake_slack, words), timeout=timeout,
                          what=f"the card showing {words!r}")


def test_the_people_named_when_opening_are_asked_and_the_card_counts_them(
        bot, fake_slack, db):
    answer = bot.slack.command("card Launch the new checkout " + " ".join(
        mention(p) for p in (ANA, BEN, CAM)))
    assert "asks <@U_ANA>, <@U_BEN> and <@U_CAM> for their debrief" in answer.text
    card, post = open_card(bot, fake_slack, db, "Second card")  # the first is posted too
    first = next(c for c in fake_slack.succeeded("chat.postMessage")
                 if "Launch the new checkout" in c.blocks_text())
    assert card_row(db, 1).title == "Launch the new checkout"  # the mentions are not in it
    assert "0 of 3 collaborators have added to its debrief" in first.blocks_text()
    assert on_card(db, 1) == [ANA, BEN, CAM]
    assert "No collaborators yet" in post.blocks_text()


def test_named_entries_count_anonymous_and_private_ones_count_for_nobody(bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA, BEN, CAM)
    add_from_card(bot, fake_slack, card, "lesson", "Ana's named lesson", user=ANA)
    card_shows(fake_slack, "1 of 3 collaborators has added")

    add_from_card(bot, fake_slack, card, "win", "Ben wrote this anonymously", user=BEN,
                  anonymous=["yes"])
    add_from_card(bot, fake_slack, card, "lesson", "Cam's private note", user=CAM,
                  visibility="private")
    card_shows(fake_slack, "1 anonymous entry")
    latest = updates_showing(fake_slack, "1 anonymous entry")[-1].blocks_text()
    assert "1 of 3 collaborators has added" in latest  # neither counted for anyone

    # Someone not on the card logs a named win on it: they join, and count.
    add_from_card(bot, fake_slack, card, "win", "Dee's named win", user=DEE)
    card_shows(fake_slack, "2 of 4 collaborators have added")
    # A non-collaborator's anonymous entry adds nobody: a new collaborator appearing
    # with it would name its author.
    add_from_card(bot, fake_slack, card, "win", "an outsider, anonymously", user="U_OUT",
                  anonymous=["yes"])
    card_shows(fake_slack, "2 anonymous entries")
    assert "2 of 4 collaborators" in updates_showing(
        fake_slack, "2 anonymous entries")[-1].blocks_text()
    assert on_card(db) == [ANA, BEN, CAM, DEE]


def test_join_and_leave_with_the_cards_buttons(bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA)
    press(bot, "card_join", card, DEE)
    card_shows(fake_slack, "0 of 2 collaborators")
    press(bot, "card_join", card, DEE)  # twice: still one
    press(bot, "card_leave", card, ANA)
    card_shows(fake_slack, "0 of 1 collaborator have added")
    told = ephemerals_to(bot, fake_slack, DEE)
    assert any("You are on “Launch the new checkout” (card 1) now" in t for t in told)
    assert any("You are on “Launch the new checkout” (card 1) already" in t for t in told)
    assert any("You left" in t for t in ephemerals_to(bot, fake_slack, ANA))
    assert on_card(db) == [DEE]


def test_only_the_opener_sees_who_has_not_added(bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA, BEN, CAM)
    add_from_card(bot, fake_slack, card, "lesson", "a named lesson", user=ANA)
    bot.settle()

    press(bot, "card_who", card, OPENER)
    [mine] = ephemerals_to(bot, fake_slack, OPENER)
    assert "1 of 3 collaborators has added" in mine
    assert "Added to it: <@U_ANA>" in mine
    assert "Not yet (only you see this): <@U_BEN> and <@U_CAM>" in mine

    press(bot, "card_who", card, ANA)
    hers = ephemerals_to(bot, fake_slack, ANA)[-1]
    assert "1 of 3 collaborators has added" in hers and "You are on it" in hers
    assert "U_BEN" not in hers and "U_CAM" not in hers
    by_command = bot.slack.command("collaborators 1", user=BEN).text
    assert "1 of 3" in by_command and "U_CAM" not in by_command and "U_ANA" not in by_command
    assert "Not yet" in bot.slack.command("collaborators 1").text  # the opener's


def test_people_leave_by_themselves_and_the_opener_takes_them_off(bot, fake_slack, db):
    open_with(bot, fake_slack, db, ANA, BEN, CAM)
    refused = bot.slack.command(f"collaborators 1 remove {mention(BEN)}", user=ANA)
    assert refused.text.startswith(":warning:") and "Only the card's opener" in refused.text
    assert on_card(db) == [ANA, BEN, CAM]
    assert "Took <@U_BEN> off" in bot.slack.command(
        f"collaborators 1 remove {mention(BEN)}", user=BEN).text
    assert "Took <@U_CAM> off" in bot.slack.command(
        f"collaborators 1 remove {mention(CAM)}").text
    refused = bot.slack.command(f"collaborators 1 add {mention(DEE)}", user=ANA)
    assert "Only the card's opener" in refused.text
    assert "Added <@U_DEE>" in bot.slack.command(f"collaborators 1 add {mention(DEE)}").text
    assert on_card(db) == [ANA, DEE]


def test_closing_asks_the_opener_first_and_names_who_has_not_added(bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA, BEN, CAM)
    add_from_card(bot, fake_slack, card, "lesson", "Ana's lesson", user=ANA)

    prompt = bot.slack.command("close 1").json()
    text = json.dumps(prompt)
    assert "<@U_BEN> and <@U_CAM> have not added to its debrief yet" in text
    buttons = [e["action_id"] for b in prompt["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["card_ask_first", "card_close_anyway"]
    assert card_row(db).status == "open"  # nothing closed yet

    # Anyone else who may close it (a workspace admin) reads a count, never names.
    fake_slack.users[ANA] = {"id": ANA, "name": "ana", "is_admin": True}
    other = json.dumps(bot.slack.command("close 1", user=ANA).json())
    assert "2 collaborators have not added" in other
    assert "U_BEN" not in other and "U_CAM" not in other

    press(bot, "card_ask_first", card, OPENER)
    press(bot, "card_ask_first", card, OPENER)  # again: nobody is asked twice
    bot.settle()
    dms = [c for c in fake_slack.succeeded("chat.postMessage")
           if c.body["channel"] in (ANA, BEN, CAM)]
    assert sorted(c.body["channel"] for c in dms) == [BEN, CAM]
    ask = dms[0]
    assert "<@U_ALICE> is about to close the card “Launch the new checkout”" in ask.body["text"]
    assert [e["action_id"] for b in ask.body["blocks"] if b["type"] == "actions"
            for e in b["elements"]] == ["card_add_win", "card_add_opportunity",
                                        "card_add_lesson"]
    told = ephemerals_to(bot, fake_slack, OPENER)
    assert "Asked <@U_BEN> and <@U_CAM> by DM" in told[0]
    assert "<@U_BEN> and <@U_CAM> were asked before" in told[1]

    # Cam answers from the DM: its button opens the form on the card.
    before = len(fake_slack.calls_to("views.open"))
    bot.slack.block_action({"action_id": "card_add_win", "value": "1"}, user=CAM,
                           channel="D_CAM")
    view = fake_slack.wait_for("views.open", before + 1)[before].body["view"]
    assert json.loads(view["private_metadata"]) == {"channel_id": "C_TEAM", "card_id": 1}

    press(bot, "card_close_anyway", card, OPENER)
    assert card_row(db).status == "closed"
    debrief = next(c for c in _debriefs(bot, fake_slack))
    assert "Contributors: <@U_ANA>" in debrief
    assert "U_BEN" not in debrief and "U_CAM" not in debrief  # never who did not add


def _debriefs(bot, fake_slack) -> list[str]:
    fake_slack.wait_until(lambda: any("Debrief of" in c.blocks_text()
                                      for c in fake_slack.succeeded("chat.postMessage")),
                          what="the debrief")
    return [c.blocks_text() for c in fake_slack.succeeded("chat.postMessage")
            if "Debrief of" in c.blocks_text()]


def test_a_card_everyone_added_to_closes_at_once(bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA)
    add_from_card(bot, fake_slack, card, "win", "done", user=ANA)
    assert "Closed card 1" in bot.slack.command("close 1").text


def test_an_anonymous_entry_never_names_its_author(bot, fake_slack, db):
    """Ana writes anonymously on a card she is on. Nothing anyone else sees changes with
    whether the anonymous author is on the card: the count, the opener's list, the
    debrief's contributors."""
    card, _ = open_with(bot, fake_slack, db, ANA, BEN)
    add_from_card(bot, fake_slack, card, "lesson", "the anonymous one", user=ANA,
                  anonymous=["yes"])
    add_from_card(bot, fake_slack, card, "win", "Ben's named win", user=BEN)
    card_shows(fake_slack, "1 of 2 collaborators has added")
    assert "1 anonymous entry" in updates_showing(fake_slack, "1 of 2")[-1].blocks_text()
    prompt = json.dumps(bot.slack.command("close 1").json())
    assert "<@U_ANA> has not added to its debrief yet" in prompt  # the same as if silent
    press(bot, "card_close_anyway", card, OPENER)
    [debrief] = _debriefs(bot, fake_slack)
    assert "Contributors: <@U_BEN> and someone anonymously" in debrief
    assert "U_ANA" not in debrief
    with db.session() as session:  # her entry is hers: nothing else points at her
        assert session.scalars(select(Entry.author_id).where(Entry.anonymous)).all() == [ANA]


def test_nobody_joins_a_closed_card(bot, fake_slack, db):
    card, _ = open_card(bot, fake_slack, db)
    bot.slack.command("close 1")
    press(bot, "card_join", card, DEE)
    assert any("is closed" in t for t in ephemerals_to(bot, fake_slack, DEE))
    assert on_card(db) == []
    with db.session() as session:
        assert not session.scalars(select(OutboxMessage).where(
            OutboxMessage.action == OutboxAction.CARD_NUDGE)).all()


def test_forget_me_takes_the_person_off_every_card(bot, fake_slack, db):
    from tests.test_forget_me import ask

    card, _ = open_with(bot, fake_slack, db, ANA, BEN)
    add_from_card(bot, fake_slack, card, "win", "Ana's win", user=ANA)
    card_shows(fake_slack, "1 of 2 collaborators has added")
    bot.slack.command("nudges off", user=ANA)
    bot.slack.view_submission(ask(bot, fake_slack, user=ANA), {}, user=ANA)
    assert on_card(db) == [BEN]
    card_shows(fake_slack, "0 of 1 collaborator have added")
    with db.session() as session:
        assert session.scalars(select(NudgeMute)).all() == []


def test_another_workspace_cannot_join_nor_look_at_a_card(bot, fake_slack, db):
    card, _ = open_with(bot, fake_slack, db, ANA)
    for action in ("card_join", "card_who", "card_close_anyway", "card_ask_first"):
        answer = bot.slack.block_action({"action_id": action, "value": str(card.id)},
                                        user="U_EVE", team="T_OTHER",
                                        message={"ts": card.message_ts, "text": ""})
        assert answer.status == 200
    bot.slack.command("collaborators 1", team="T_OTHER", user="U_EVE")
    bot.settle()
    # Single-workspace mode: another workspace is refused before anything is looked up
    # (tests/test_privacy_workspaces.py walks the same across installed workspaces).
    told = [c.body["text"] for c in fake_slack.wait_for("response_url", 5)]
    assert all("not installed in this workspace" in t for t in told), told
    assert not any("U_ANA" in t or "Launch" in t for t in told)
    assert on_card(db) == [ANA] and card_row(db).status == "open"
