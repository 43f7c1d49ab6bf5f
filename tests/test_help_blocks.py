"""Help as Block Kit: every command with an example, buttons that open the forms, and a
"did you mean" for a near miss in every sub-command, not only the first word."""

from __future__ import annotations

import json

import pytest

from bot.views.help import EXAMPLES


def blocks_of(answer) -> list[dict]:
    return answer.json()["blocks"]


def buttons(blocks: list[dict]) -> dict[str, dict]:
    return {e["text"]["text"]: e for b in blocks if b["type"] == "actions"
            for e in b["elements"]}


def test_help_shows_each_command_with_an_example_and_keeps_a_text(bot):
    answer = bot.slack.command("help", channel="C_OPS")
    blocks = blocks_of(answer)
    shown = json.dumps(blocks)
    for example in ("/debrief lesson pin the base image", "/debrief search rollback #deploy",
                    "/debrief rotation schedule mon,wed,fri 09:30", "/debrief kudos month",
                    "/debrief digest #learnings weekly fri 16:00", "/debrief export md"):
        assert example in shown
    # Every command has its line and its example.
    lines = [b["text"]["text"] for b in blocks
             if b["type"] == "section" and b["text"]["text"].startswith("`/debrief")]
    assert len(lines) == answer.text.count("• `/debrief") >= 13
    assert all("\n_e.g._ `/debrief" in line for line in lines), lines
    assert all(f"/debrief {example}" in shown for example in EXAMPLES.values())
    assert len(blocks) <= 50
    # Notifications and screen readers get the same as text.
    assert "/debrief win|opportunity|lesson TEXT" in answer.text
    assert {"Log a learning", "Reflect with /hope"} <= set(buttons(blocks))
    assert buttons(blocks)["Log a learning"]["value"] == "C_OPS"


def test_helps_buttons_open_the_forms(bot, fake_slack, db):
    blocks = blocks_of(bot.slack.command("help", channel="C_OPS"))
    log = buttons(blocks)["Log a learning"]
    assert bot.slack.block_action({"action_id": log["action_id"], "value": log["value"]},
                                  channel="C_OPS").status == 200
    form = fake_slack.wait_for("views.open")[0].body
    assert form["view"]["callback_id"] == "debrief_entry"
    assert json.loads(form["view"]["private_metadata"]) == {"channel_id": "C_OPS"}
    assert form["trigger_id"].endswith(".trigger")

    reflect = buttons(blocks)["Reflect with /hope"]
    bot.slack.block_action({"action_id": reflect["action_id"]}, channel="C_OPS")
    modal = fake_slack.wait_for("views.open", 2)[1].body["view"]
    assert modal["callback_id"] == "hope_reflection"
    assert "Happened" in json.dumps(modal)


def test_an_unknown_first_word_gets_blocks_with_did_you_mean(bot):
    answer = bot.slack.command("serch rollback")
    assert "Did you mean `/debrief search rollback`?" in answer.text
    assert "Did you mean `/debrief search rollback`?" in json.dumps(blocks_of(answer))


@pytest.mark.parametrize("typed, meant", [
    ("rotation schedul mon 09:30 Europe/Berlin", "/debrief rotation schedule mon 09:30 "
                                                  "Europe/Berlin"),
    ("rotation pasue", "/debrief rotation pause"),
    ("kudos weak", "/debrief kudos week"),
    ("export cvs", "/debrief export csv"),
    ("digest of", "/debrief digest off"),
    ("health wekly fri 09:00", "/debrief health weekly fri 09:00"),
    ("health of", "/debrief health off"),
    ("nudges of", "/debrief nudges off"),
    ("nudges 1 of", "/debrief nudges 1 off"),
    ("nudges evry 3 days", "/debrief nudges every 3 days"),
    ("collab 1 ad <@U_ANA|ana>", "/debrief collaborators 1 add @ana"),
    ("collaborators 1 remve <@U_ANA|ana>", "/debrief collaborators 1 remove @ana"),
])
def test_did_you_mean_in_every_sub_command(bot, db, typed, meant):
    answer = bot.slack.command(typed)
    assert f"Did you mean `{meant}`?" in answer.text


def test_did_you_mean_inside_a_sub_commands_words(bot):
    assert "`wekly`: did you mean `weekly`?" in \
        bot.slack.command("digest here wekly fri 16:00").text
    assert "did you mean `friday`?" in bot.slack.command("digest here weekly fridy 16:00").text
    bot.slack.command("rotation join")
    assert "`untl`: did you mean `until`?" in \
        bot.slack.command("rotation away <@U_ANA|ana> untl 2026-12-24").text


def test_a_rotation_near_miss_changes_nothing(bot, db):
    from sqlalchemy import select

    from bot.db.models import Rotation
    bot.slack.command("rotation pasue")
    with db.session() as session:
        assert session.scalars(select(Rotation)).all() == []


def test_hope_help_has_blocks_a_reflect_button_and_did_you_mean(bot, fake_slack):
    answer = bot.slack.command("help", command="/hope")
    assert "Reflect with /hope" in buttons(blocks_of(answer))
    assert "/hope history 2" in json.dumps(blocks_of(answer))
    near = bot.slack.command("histroy", command="/hope")
    assert "Did you mean `/hope history`?" in near.text
    assert "Did you mean `/hope history`?" in json.dumps(blocks_of(near))
    far = bot.slack.command("xyzzy", command="/hope")
    assert "I don't know `xyzzy`" in far.text and "Did you mean" not in far.text
