"""/hope prompts: workspace admins (and owners) change the four HOPE prompts; nobody else."""

from __future__ import annotations

import json

import pytest

from bot.db.models import WorkspaceSettings
from bot.services.reflections import DEFAULT_PROMPTS
from tests.kit.slack_requests import fill
from tests.test_hope import open_hope

MINE = ["What went on?", "So what?", "Who knew?", "Now what?"]


def people(fake_slack) -> None:
    fake_slack.users.update({
        "U_BOSS": {"id": "U_BOSS", "name": "boss", "is_admin": True, "is_owner": False},
        "U_OWNER": {"id": "U_OWNER", "name": "owner", "is_admin": False, "is_owner": True},
        "U_ALICE": {"id": "U_ALICE", "name": "alice", "is_admin": False, "is_owner": False},
    })


def open_prompts(bot, fake_slack, user) -> dict:
    """What the person sees once the bot knows who they are (the updated modal)."""
    people(fake_slack)
    answer = bot.slack.command("prompts", command="/hope", user=user)
    assert answer.status == 200 and answer.text == ""
    opened = fake_slack.wait_for("views.open")[0]
    assert "Checking" in json.dumps(opened.body["view"])  # at once, while the trigger lives
    update = fake_slack.wait_for("views.update")[0]
    assert fake_slack.calls_to("users.info")[0].body["user"] == user
    return update.body["view"]


def saved_prompts(db) -> list[str] | None:
    with db.session() as session:
        row = session.get(WorkspaceSettings, "T0001")
        return None if row is None else row.hope_prompts


@pytest.mark.parametrize("admin", ["U_BOSS", "U_OWNER"])
def test_an_admin_changes_the_prompts_and_the_next_hope_uses_them(bot, fake_slack, db, admin):
    form = open_prompts(bot, fake_slack, admin)
    assert form["callback_id"] == "hope_prompts"
    initial = [b["element"]["initial_value"] for b in form["blocks"]
               if b.get("block_id", "").startswith("hope_prompt_")]
    assert initial == list(DEFAULT_PROMPTS)

    answer = bot.slack.view_submission(form, fill(form, {
        f"hope_prompt_{n}": prompt for n, prompt in enumerate(MINE, 1)}), user=admin)
    assert "The HOPE prompts are saved" in json.dumps(answer.json()["view"])
    assert saved_prompts(db) == MINE

    view = open_hope(bot, fake_slack, "U_ALICE")
    assert [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"] == MINE


def test_someone_who_is_not_an_admin_is_refused_clearly(bot, fake_slack, db):
    refusal = open_prompts(bot, fake_slack, "U_ALICE")
    assert refusal["callback_id"] == "hope_notice" and "submit" not in refusal
    assert "Only workspace admins and owners" in json.dumps(refusal)
    assert saved_prompts(db) is None


def test_when_slack_cannot_say_who_is_asking_nothing_opens(bot, fake_slack, db):
    fake_slack.fail("users.info", error="ratelimited")
    notice = open_prompts(bot, fake_slack, "U_BOSS")
    assert "could not ask Slack" in json.dumps(notice) and "submit" not in notice


def test_an_empty_or_too_long_prompt_is_an_error_on_its_field(bot, fake_slack, db):
    form = open_prompts(bot, fake_slack, "U_BOSS")
    answer = bot.slack.view_submission(form, fill(form, {
        "hope_prompt_2": "  ", "hope_prompt_4": "w" * 201}), user="U_BOSS")
    errors = answer.json()["errors"]
    assert set(errors) == {"hope_prompt_2", "hope_prompt_4"}
    assert "empty" in errors["hope_prompt_2"] and "201 characters" in errors["hope_prompt_4"]
    assert saved_prompts(db) is None


def test_back_to_the_defaults(bot, fake_slack, db):
    with db.session() as session:
        session.add(WorkspaceSettings(team_id="T0001", hope_prompts=MINE))
        session.commit()
    form = open_prompts(bot, fake_slack, "U_BOSS")
    assert [b["element"]["initial_value"] for b in form["blocks"]
            if b.get("block_id", "").startswith("hope_prompt_")] == MINE
    bot.slack.view_submission(form, fill(form, {"hope_prompts_reset": ["yes"]}), user="U_BOSS")
    assert saved_prompts(db) is None
    view = open_hope(bot, fake_slack, "U_ALICE")
    assert [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"] == \
        list(DEFAULT_PROMPTS)


def test_prompts_are_per_workspace(bot, fake_slack, db):
    with db.session() as session:
        session.add(WorkspaceSettings(team_id="T_OTHER", hope_prompts=MINE))
        session.commit()
    view = open_hope(bot, fake_slack, "U_ALICE")
    assert [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"] == \
        list(DEFAULT_PROMPTS)


def test_four_long_prompts_in_any_script_fit_the_modal():
    from bot.views.hope import reflection_modal

    prompts = ["Что случилось? " * 13 + "ёёёёё"] * 4  # 200 characters each
    assert all(len(p) == 200 for p in prompts)
    modal = reflection_modal(prompts).to_dict()  # slack_sdk checks Slack's limits
    assert json.loads(modal["private_metadata"])["prompts"] == prompts
