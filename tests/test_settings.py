"""/debrief settings: workspace admins narrow the applause emoji and turn on leaderboards."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.models import Applause, ChannelSettings, Entry, WorkspaceSettings
from tests.kit.fake_slack import TEAM_ID
from tests.kit.slack_requests import fill, reaction


def open_settings(bot, fake_slack, user="U_ADMIN", **profile) -> dict:
    fake_slack.users[user] = {"id": user, "team_id": TEAM_ID, "is_admin": False,
                              "is_owner": False, **profile}
    answer = bot.slack.command("settings", user=user)
    assert answer.status == 200 and answer.text == ""
    return answer


def shown(fake_slack) -> str:
    """What the settings modal says once Slack has answered who the caller is."""
    [opened] = fake_slack.wait_for("views.open")
    assert "Checking" in json.dumps(opened.body["view"])  # opened at once: trigger_id lives 3 s
    return json.dumps(fake_slack.wait_for("views.update")[0].body["view"])


def test_a_non_admin_is_told_only_admins_can_and_sees_no_form(bot, fake_slack, db):
    open_settings(bot, fake_slack, user="U_BOB")
    modal = shown(fake_slack)
    assert "Only workspace admins" in modal
    assert "applause_emoji" not in modal
    assert fake_slack.calls_to("users.info")[0].body["user"] == "U_BOB"


def test_an_admin_narrows_the_emoji_and_turns_the_leaderboard_on(bot, fake_slack, db):
    open_settings(bot, fake_slack, is_admin=True)
    view = fake_slack.wait_for("views.update")[0].body["view"]
    assert view["callback_id"] == "debrief_settings"
    answer = bot.slack.view_submission(view, fill(view, {
        "applause_emoji": ":tada: :Clap:, +1::skin-tone-2", "leaderboard": ["on"]}),
        user="U_ADMIN")
    assert answer.status == 200
    with db.session() as session:
        workspace = session.get(WorkspaceSettings, TEAM_ID)
        assert workspace.applause_emoji == ["tada", "clap", "+1"]
        assert workspace.updated_by == "U_ADMIN"
        assert session.get(ChannelSettings, (TEAM_ID, "C_TEAM")).leaderboard is True

    with db.session() as session:
        session.add(Entry(team_id=TEAM_ID, channel_id="C_TEAM", author_id="U_ALICE",
                          kind="win", text="x", message_channel_id="C_TEAM",
                          message_ts="1700000001.000100"))
        session.commit()
    for emoji in ("eyes", "clap"):
        bot.slack.event(reaction("reaction_added", user="U_BOB", channel="C_TEAM",
                                 ts="1700000001.000100", emoji=emoji))
    with db.session() as session:
        assert session.scalars(select(Applause.emoji)).all() == ["clap"]


def test_the_owner_sees_the_current_choices_and_can_go_back_to_every_emoji(bot, fake_slack,
                                                                           db):
    with db.session() as session:
        session.add(WorkspaceSettings(team_id=TEAM_ID, applause_emoji=["tada"]))
        session.add(ChannelSettings(team_id=TEAM_ID, channel_id="C_TEAM", leaderboard=True))
        session.commit()
    open_settings(bot, fake_slack, is_owner=True)
    view = fake_slack.wait_for("views.update")[0].body["view"]
    emoji_input = next(b for b in view["blocks"] if b.get("block_id") == "applause_emoji")
    assert emoji_input["element"]["initial_value"] == ":tada:"
    toggle = next(b for b in view["blocks"] if b.get("block_id") == "leaderboard")
    assert toggle["element"]["initial_options"][0]["value"] == "on"

    bot.slack.view_submission(view, fill(view, {"applause_emoji": "", "leaderboard": []}),
                              user="U_ADMIN")
    with db.session() as session:
        assert session.get(WorkspaceSettings, TEAM_ID).applause_emoji is None
        assert session.get(ChannelSettings, (TEAM_ID, "C_TEAM")).leaderboard is False


def test_a_bad_emoji_name_keeps_the_modal_open_and_saves_nothing(bot, fake_slack, db):
    open_settings(bot, fake_slack, is_admin=True)
    view = fake_slack.wait_for("views.update")[0].body["view"]
    answer = bot.slack.view_submission(view, fill(view, {"applause_emoji": ":tada: <!here>"}),
                                       user="U_ADMIN")
    assert answer.json()["response_action"] == "errors"
    assert "not an emoji name" in answer.json()["errors"]["applause_emoji"]
    with db.session() as session:
        assert session.get(WorkspaceSettings, TEAM_ID) is None


def test_when_slack_cannot_say_who_is_admin_the_person_is_told(bot, fake_slack, db):
    fake_slack.fail("users.info", error="fatal_error")
    bot.slack.command("settings", user="U_BOB")
    modal = shown(fake_slack)
    assert "could not check" in modal
    assert "applause_emoji" not in modal


def test_an_admin_changes_the_hope_prompts_and_hope_asks_them(bot, fake_slack, db):
    open_settings(bot, fake_slack, is_admin=True)
    view = fake_slack.wait_for("views.update")[0].body["view"]
    labels = [b.get("label", {}).get("text") for b in view["blocks"]]
    assert {"Prompt 1", "Prompt 2", "Prompt 3", "Prompt 4"} <= set(labels)
    answer = bot.slack.view_submission(view, fill(view, {
        "hope_prompt_1": "What did you ship?"}), user="U_ADMIN")
    assert answer.status == 200 and b"errors" not in answer.body
    with db.session() as session:
        assert session.get(WorkspaceSettings, TEAM_ID).hope_prompts[0] == "What did you ship?"
    bot.slack.command("", command="/hope", user="U_ALICE")
    hope = fake_slack.wait_for("views.open", 2)[1].body["view"]
    assert "What did you ship?" in str(hope["blocks"])


def test_an_empty_hope_prompt_keeps_the_settings_open(bot, fake_slack, db):
    open_settings(bot, fake_slack, is_admin=True)
    view = fake_slack.wait_for("views.update")[0].body["view"]
    answer = bot.slack.view_submission(view, fill(view, {"hope_prompt_2": "  "}),
                                       user="U_ADMIN")
    assert "cannot be empty" in answer.json()["errors"]["hope_prompt_2"]
    with db.session() as session:
        row = session.get(WorkspaceSettings, TEAM_ID)
        assert row is None or row.hope_prompts is None
