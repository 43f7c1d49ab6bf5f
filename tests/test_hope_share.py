"""Sharing a reflection as a lesson: asked for, named or anonymous, team or organisation."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.models import Entry, Reflection
from tests.kit.slack_requests import fill
from tests.test_hope import reflect


def only_reflection(db) -> Reflection:
    with db.session() as session:
        return session.scalars(select(Reflection)).one()


def entries(db) -> list[Entry]:
    with db.session() as session:
        return list(session.scalars(select(Entry).order_by(Entry.id)))


def click_share(bot, fake_slack, reflection_id, user="U_ALICE", channel="C_TEAM") -> dict:
    before = len(fake_slack.calls_to("views.open"))
    answer = bot.slack.block_action({"action_id": "hope_share", "value": str(reflection_id),
                                     "block_id": f"hope_reflection_{reflection_id}"},
                                    user=user, channel=channel)
    assert answer.status == 200
    return fake_slack.wait_for("views.open", before + 1)[before].body["view"]


def share(bot, fake_slack, db, answers=None, **choices) -> tuple[Reflection, dict]:
    reflect(bot, fake_slack, answers)
    reflection = only_reflection(db)
    modal = click_share(bot, fake_slack, reflection.id)
    answer = bot.slack.view_submission(modal, fill(modal, choices))
    return reflection, answer


def test_share_asks_first_with_the_reflection_as_the_lessons_text(bot, fake_slack, db):
    reflect(bot, fake_slack, {"hope_answer_2": "Pairing caught it", "hope_answer_4": "Pair more"})
    modal = click_share(bot, fake_slack, only_reflection(db).id)
    assert modal["callback_id"] == "hope_share" and modal["submit"]["text"] == "Share"
    text = next(b for b in modal["blocks"] if b.get("block_id") == "hope_share_text")
    assert text["element"]["initial_value"] == \
        "*Outcome*\nPairing caught it\n\n*Evolve*\nPair more"
    bot.settle()
    assert entries(db) == [] and fake_slack.calls_to("chat.postMessage") == []  # not yet


def test_named_share_with_the_team_posts_a_lesson_here(bot, fake_slack, db):
    reflection, answer = share(bot, fake_slack, db, {"hope_answer_1": "We skipped the review"})
    assert answer.status == 200 and answer.body in (b"", b"{}")
    [entry] = entries(db)
    assert (entry.kind, entry.source, entry.visibility, entry.anonymous, entry.author_id,
            entry.channel_id) == ("lesson", "reflection", "team", False, "U_ALICE", "C_TEAM")
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post.body["channel"] == "C_TEAM"
    assert "We skipped the review" in post.blocks_text() and "<@U_ALICE>" in post.blocks_text()
    confirm = fake_slack.wait_for("chat.postEphemeral")[0]
    assert confirm.body["user"] == "U_ALICE" and "Saved your lesson" in confirm.body["text"]
    assert only_reflection(db).shared_entry_id == entry.id

    history = json.dumps(bot.slack.command("history", command="/hope").json())
    assert f"Shared with the team with your name as lesson ID {entry.id}" in history
    assert "Share…" not in history


def test_anonymous_share_with_the_organisation_carries_no_trace_of_its_author(
        bot, fake_slack, db):
    share(bot, fake_slack, db, {"hope_answer_1": "I broke prod"},
          hope_share_with="org", hope_share_anonymous=["yes"])
    [entry] = entries(db)
    assert entry.visibility == "org" and entry.anonymous
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert "I broke prod" in post.blocks_text()
    assert "U_ALICE" not in json.dumps(post.body) and "alice" not in json.dumps(post.body)
    assert "anonymously" in post.blocks_text()
    bot.settle()
    for call in fake_slack.calls:  # whatever went to anyone but Alice
        if call.method == "chat.postEphemeral" and call.body.get("user") == "U_ALICE":
            continue
        if call.method in ("views.open", "users.info", "users.conversations"):
            continue  # opened by Alice's own clicks; questions to Slack nobody reads
        assert "U_ALICE" not in json.dumps(call.body), call.method


def test_the_author_may_trim_the_text_before_sharing(bot, fake_slack, db):
    share(bot, fake_slack, db, {"hope_answer_1": "Names of people involved: Bob"},
          hope_share_text="Check who is on call before a release")
    [entry] = entries(db)
    assert entry.text == "Check who is on call before a release"
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert "Bob" not in post.blocks_text()
    assert only_reflection(db).answers[0] == "Names of people involved: Bob"  # kept whole


def test_an_emptied_text_keeps_the_modal_open_and_shares_nothing(bot, fake_slack, db):
    _, answer = share(bot, fake_slack, db, {"hope_answer_1": "something"},
                      hope_share_text="   ")
    assert answer.json()["response_action"] == "errors"
    assert "hope_share_text" in answer.json()["errors"]
    bot.settle()
    assert entries(db) == [] and fake_slack.calls_to("chat.postMessage") == []


def test_a_long_reflection_is_offered_shortened_and_kept_whole(bot, fake_slack, db):
    long = {f"hope_answer_{n}": str(n) * 3000 for n in range(1, 5)}
    reflect(bot, fake_slack, long)
    modal = click_share(bot, fake_slack, only_reflection(db).id)
    block = next(b for b in modal["blocks"] if b.get("block_id") == "hope_share_text")
    assert len(block["element"]["initial_value"]) == 3000
    assert "Shortened to fit" in block["hint"]["text"]
    assert only_reflection(db).answers == [str(n) * 3000 for n in range(1, 5)]


def test_a_reflection_is_shared_once(bot, fake_slack, db):
    reflection, _ = share(bot, fake_slack, db, {"hope_answer_1": "once"})
    again = click_share(bot, fake_slack, reflection.id)
    assert "already shared" in json.dumps(again)
    assert len(entries(db)) == 1


def test_deleting_the_lesson_lets_the_author_share_the_reflection_again(bot, fake_slack, db):
    reflection, _ = share(bot, fake_slack, db, {"hope_answer_1": "twice"})
    bot.slack.command(f"delete {entries(db)[0].id}")
    modal = click_share(bot, fake_slack, reflection.id)
    assert modal["callback_id"] == "hope_share"


def test_nobody_else_can_share_or_see_a_reflection(bot, fake_slack, db):
    reflect(bot, fake_slack, {"hope_answer_1": "alice's secret worry"})
    reflection = only_reflection(db)
    refused = click_share(bot, fake_slack, reflection.id, user="U_MALLORY")
    assert "alice's secret worry" not in json.dumps(refused)
    assert "not there" in json.dumps(refused)

    # Even a submission shaped like the share form, naming Alice's reflection, is refused.
    forged = click_share(bot, fake_slack, reflection.id)  # the form as Alice would get it
    answer = bot.slack.view_submission(forged, fill(forged, {}), user="U_MALLORY")
    assert answer.json()["response_action"] == "errors"
    assert "alice's secret worry" not in answer.body.decode()
    bot.settle()
    assert entries(db) == [] and fake_slack.calls_to("chat.postMessage") == []
