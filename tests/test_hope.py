"""/hope: the private HOPE reflection, and /hope history."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.models import Reflection, WorkspaceSettings
from bot.services.reflections import DEFAULT_PROMPTS, PAGE_SIZE
from tests.kit.slack_requests import fill

ANSWERS = {"hope_answer_1": "The deploy failed twice on Friday",
           "hope_answer_2": "Feature flags would have saved the evening",
           "hope_answer_3": "The platform team wrote a runbook for this",
           "hope_answer_4": "Read the runbook before deploying"}


def open_hope(bot, fake_slack, user="U_ALICE") -> dict:
    before = len(fake_slack.calls_to("views.open"))
    answer = bot.slack.command("", command="/hope", user=user)
    assert answer.status == 200 and answer.text == ""
    return fake_slack.wait_for("views.open", before + 1)[before].body["view"]


def reflect(bot, fake_slack, answers=None, user="U_ALICE"):
    view = open_hope(bot, fake_slack, user)
    return bot.slack.view_submission(view, fill(view, answers or ANSWERS), user=user)


def stored(db) -> list[Reflection]:
    with db.session() as session:
        return list(session.scalars(select(Reflection).order_by(Reflection.id)))


def test_slash_hope_opens_the_modal_with_the_four_prompts_after_the_ack(bot, fake_slack):
    gate = fake_slack.hold("views.open")
    answer = bot.slack.command("", command="/hope")  # answered while views.open is held
    assert answer.status == 200
    gate.set()
    view = fake_slack.wait_for("views.open")[0].body["view"]
    assert view["callback_id"] == "hope_reflection"
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == list(DEFAULT_PROMPTS)
    assert labels[0].startswith("Happened") and labels[3].startswith("Evolve")
    assert "Only you can ever read this" in json.dumps(view)


def test_a_submission_is_stored_privately_and_posts_nothing(bot, fake_slack, db):
    answer = reflect(bot, fake_slack)
    assert answer.json()["response_action"] == "update"
    assert "Only you can ever read this" in json.dumps(answer.json()["view"])
    [reflection] = stored(db)
    assert reflection.author_id == "U_ALICE" and reflection.team_id == "T0001"
    assert reflection.answers == list(ANSWERS.values())
    assert reflection.prompts == list(DEFAULT_PROMPTS)
    assert reflection.shared_entry_id is None
    bot.settle()
    for method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
        assert fake_slack.calls_to(method) == []


def test_some_prompts_may_stay_empty(bot, fake_slack, db):
    reflect(bot, fake_slack, {"hope_answer_4": "Ask earlier"})
    [reflection] = stored(db)
    assert reflection.answers == ["", "", "", "Ask earlier"]


def test_an_empty_submission_keeps_the_modal_open_with_an_error(bot, fake_slack, db):
    answer = reflect(bot, fake_slack, {"hope_answer_1": "  ", "hope_answer_2": None})
    assert answer.json()["response_action"] == "errors"
    assert "at least one" in answer.json()["errors"]["hope_answer_1"]
    assert stored(db) == []


def test_an_answer_over_3000_characters_is_refused_on_its_own_field(bot, fake_slack, db):
    answer = reflect(bot, fake_slack, {"hope_answer_1": "fine", "hope_answer_3": "y" * 3001})
    errors = answer.json()["errors"]
    assert list(errors) == ["hope_answer_3"] and "3,001 characters" in errors["hope_answer_3"]
    assert stored(db) == []
    # Exactly 3,000 is fine.
    reflect(bot, fake_slack, {"hope_answer_3": "y" * 3000})
    assert len(stored(db)) == 1


def test_the_prompts_an_admin_chose_are_used_and_kept_with_the_reflection(bot, fake_slack, db):
    mine = ["What went on?", "So what?", "Who knew?", "Now what?"]
    with db.session() as session:
        session.add(WorkspaceSettings(team_id="T0001", hope_prompts=mine))
        session.commit()
    view = open_hope(bot, fake_slack)
    assert [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"] == mine
    bot.slack.view_submission(view, fill(view, {"hope_answer_2": "a lot"}))
    assert stored(db)[0].prompts == mine


def test_history_lists_only_the_callers_own_reflections_newest_first(bot, fake_slack, db):
    reflect(bot, fake_slack, {"hope_answer_1": "first of alice"})
    reflect(bot, fake_slack, {"hope_answer_1": "second of alice"})
    reflect(bot, fake_slack, {"hope_answer_1": "bob's own thought"}, user="U_BOB")

    answer = bot.slack.command("history", command="/hope")
    shown = json.dumps(answer.json())
    assert shown.index("second of alice") < shown.index("first of alice")
    assert "bob" not in shown
    buttons = [e for b in answer.json()["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Read", "Share…", "Read", "Share…"]

    bobs = json.dumps(bot.slack.command("history", command="/hope", user="U_BOB").json())
    assert "bob's own thought" in bobs and "alice" not in bobs


def test_history_with_nothing_yet_says_how_to_start(bot):
    answer = bot.slack.command("history", command="/hope")
    assert "no reflections yet" in answer.text


def test_history_pages(bot, fake_slack, db):
    with db.session() as session:
        for n in range(PAGE_SIZE + 2):
            session.add(Reflection(team_id="T0001", author_id="U_ALICE",
                                   prompts=list(DEFAULT_PROMPTS),
                                   answers=[f"number {n:02d}", "", "", ""]))
        session.commit()
    first = json.dumps(bot.slack.command("history", command="/hope").json())
    assert "number 11" in first and "number 00" not in first
    assert "/hope history 2" in first
    second = json.dumps(bot.slack.command("history 2", command="/hope").json())
    assert "number 00" in second and "number 11" not in second
    assert len(json.loads(second)["blocks"]) <= 50


def test_read_opens_the_whole_reflection_for_its_author_only(bot, fake_slack, db):
    reflect(bot, fake_slack, {"hope_answer_1": "x" * 2970 + " the end <!channel>"})
    [reflection] = stored(db)
    bot.slack.block_action({"action_id": "hope_read", "value": str(reflection.id)})
    modal = fake_slack.wait_for("views.open", 2)[1].body["view"]
    assert "the end <!channel>" in json.dumps(modal)  # plain text: shown as typed, inert
    assert all(b["text"]["type"] == "plain_text" for b in modal["blocks"][2::2])

    bot.slack.block_action({"action_id": "hope_read", "value": str(reflection.id)},
                           user="U_MALLORY")
    refused = fake_slack.wait_for("views.open", 3)[2].body["view"]
    assert "the end" not in json.dumps(refused)
    assert "not there" in json.dumps(refused)


def test_help_and_unknown_words(bot):
    assert "/hope history" in bot.slack.command("help", command="/hope").text
    answer = bot.slack.command("<!here> histroy", command="/hope")
    assert "I don't know" in answer.text and "<!here>" not in answer.text
