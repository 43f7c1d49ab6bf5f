"""Who may do what (PRODUCT.md §7), checked when the change is made, through signed HTTP:
refusals are a clear message only the caller sees, and change nothing. Whether someone
is an admin or a guest is Slack's answer (users.info), asked with no transaction open,
kept a minute; when Slack does not answer, nothing that needs the answer changes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.db.models import Card, ChannelSettings, Digest, Rotation, RotationMember
from tests.kit.fake_slack import TEAM_ID
from tests.kit.slack_requests import fill
from tests.test_rotation_reminders import rotation_due, the_turn

ADMIN, GUEST = "U_BOSS", "U_GUEST"


@pytest.fixture(autouse=True)
def people(fake_slack):
    fake_slack.users.update({
        ADMIN: {"id": ADMIN, "name": "boss", "is_admin": True},
        GUEST: {"id": GUEST, "name": "guest", "is_restricted": True},
        **{u: {"id": u, "deleted": False, "tz": "Europe/Berlin"}
           for u in ("U_ANA", "U_BEN", "U_CAM", "U_ALICE", "U_BOB")},
    })


def card(db) -> Card:
    with db.session() as session:
        return session.scalars(select(Card)).one()


def debriefs(fake_slack) -> list:
    return [c for c in fake_slack.calls_to("chat.postMessage") if "Debrief of" in c.blocks_text()]


def test_a_card_is_closed_by_its_opener_or_an_admin_only(bot, fake_slack, db):
    assert "Opened card 1" in bot.slack.command("card Launch", user="U_ALICE").text
    refused = bot.slack.command("close 1", user="U_BOB")
    assert refused.text.startswith(":warning:") and "Only <@U_ALICE>" in refused.text
    bot.settle()
    assert card(db).status == "open" and debriefs(fake_slack) == []
    assert "Closed card 1" in bot.slack.command("close 1", user=ADMIN).text
    assert card(db).closed_by == ADMIN


def test_the_opener_closes_without_slack_and_nobody_else_does(bot, fake_slack, db):
    bot.slack.command("card Launch", user="U_ALICE")
    fake_slack.fail("users.info", status=500, times=50)  # Slack cannot say who is an admin
    refused = bot.slack.command("close 1", user=ADMIN)
    assert refused.text.startswith(":warning:") and "could not check with Slack" in refused.text
    assert card(db).status == "open"
    assert "Closed card 1" in bot.slack.command("close 1", user="U_ALICE").text


def test_slack_is_asked_with_no_database_connection_held_and_answers_are_kept(
        bot, fake_slack, db):
    answer, held = fake_slack.handlers["users.info"], []

    def info(body: dict) -> dict:
        held.append(bot.runtime.db.engine.pool.checkedout())
        return answer(body)

    bot.slack.command("card Launch", user="U_ALICE")
    bot.settle()  # the outbox worker is idle: any connection out is the request's
    fake_slack.handlers["users.info"] = info
    try:
        bot.slack.command("close 1", user="U_BOB")
        bot.slack.command("close 1", user="U_BOB")  # within the minute: kept
    finally:
        fake_slack.handlers["users.info"] = answer
    assert held == [0]


def reminded(bot, fake_slack, db):
    from bot.clock import send_rotation_reminders

    rotation_due(db)
    send_rotation_reminders(bot.runtime)
    fake_slack.wait_for("chat.postMessage", 2)
    bot.settle()
    return the_turn(db)


def press(bot, turn, action: str, user: str, channel: str = "C_TEAM"):
    return bot.slack.block_action({"action_id": action, "value": str(turn.id)}, user=user,
                                  channel=channel, message={"ts": turn.message_ts, "text": ""})


def ephemeral_to(fake_slack, user: str) -> str:
    fake_slack.wait_until(lambda: any(c.body.get("user") == user
                                      for c in fake_slack.calls_to("chat.postEphemeral")))
    return [c for c in fake_slack.calls_to("chat.postEphemeral")
            if c.body.get("user") == user][-1].body["text"]


def test_pass_to_next_is_for_the_person_up_or_an_admin(bot, fake_slack, db):
    turn = reminded(bot, fake_slack, db)
    assert turn.user_id == "U_ANA"
    press(bot, turn, "rotation_pass", "U_CAM")
    assert "<@U_ANA>'s turn" in ephemeral_to(fake_slack, "U_CAM")
    bot.settle()
    assert the_turn(db).user_id == "U_ANA" and fake_slack.calls_to("chat.update") == []
    refused = bot.slack.command("rotation skip", user="U_CAM")  # the command too
    assert refused.text.startswith(":warning:") and the_turn(db).user_id == "U_ANA"
    press(bot, turn, "rotation_pass", ADMIN)  # an admin may pass for her
    assert the_turn(db).user_id == "U_BEN" and the_turn(db).passed_by == ["U_ANA"]


def test_skip_todays_meeting_is_refused_to_a_guest_and_from_another_channel(
        bot, fake_slack, db):
    turn = reminded(bot, fake_slack, db)
    press(bot, turn, "rotation_skip", GUEST)
    assert "Guests cannot" in ephemeral_to(fake_slack, GUEST)
    press(bot, turn, "rotation_skip", "U_CAM", channel="C_ELSEWHERE")
    assert "another channel" in ephemeral_to(fake_slack, "U_CAM")
    assert the_turn(db).status == "reminded"


@pytest.mark.parametrize("words", ["rotation join", "rotation add <@U_BEN|ben>",
                                   "rotation schedule mon 09:30 Europe/Berlin",
                                   "rotation holidays DE", "rotation pause"])
def test_a_guest_changes_no_rotation(bot, fake_slack, db, words):
    bot.slack.command("rotation add <@U_ANA|ana>", user="U_ALICE")
    answer = bot.slack.command(words, user=GUEST)
    assert answer.text.startswith(":warning:") and "Guests cannot" in answer.text
    with db.session() as session:
        rota = session.scalars(select(Rotation)).one()
        assert (rota.days, rota.holiday_country, rota.paused) == ("", None, False)
        assert session.scalars(select(RotationMember.user_id)).all() == ["U_ANA"]


def test_the_rotation_form_is_rechecked_against_the_channel_when_submitted(
        bot, fake_slack, db):
    bot.slack.command("rotation", user="U_ALICE")
    view = fake_slack.wait_for("views.open")[0].body["view"]
    fake_slack.memberships["U_ALICE"] = ["C_OTHER"]  # removed from #team meanwhile
    answer = bot.slack.view_submission(view, fill(view, {
        "rotation_members": ["U_ANA"], "rotation_days": ["0"], "rotation_tz": "UTC",
        "rotation_lead": "10"}),
        user="U_ALICE")
    assert answer.json()["response_action"] == "errors"
    assert "no longer in that channel" in json.dumps(answer.json())
    with db.session() as session:
        assert session.scalars(select(Rotation)).all() == []


def test_only_admins_schedule_move_or_stop_the_digest(bot, fake_slack, db):
    refused = bot.slack.command("digest here weekly mon 09:00", user="U_BOB")
    assert refused.text.startswith(":warning:") and "Only workspace admins" in refused.text
    assert "will be posted" in bot.slack.command("digest here weekly mon 09:00",
                                                 user=ADMIN).text
    for words in ("digest <#C_MINE|mine> weekly fri 10:00", "digest off"):
        answer = bot.slack.command(words, user="U_BOB")
        assert "Only workspace admins" in answer.text
    with db.session() as session:
        [digest] = session.scalars(select(Digest)).all()
        assert (digest.channel_id, digest.created_by) == ("C_TEAM", ADMIN)


def settings_form(bot, fake_slack) -> dict:
    bot.slack.command("settings", user=ADMIN)
    return fake_slack.wait_for("views.update")[0].body["view"]


def test_admin_rights_are_checked_again_when_the_settings_are_submitted(bot, fake_slack, db):
    view = settings_form(bot, fake_slack)
    fake_slack.users[ADMIN]["is_admin"] = False  # demoted while the form was open
    forget_answers(bot)
    answer = bot.slack.view_submission(view, fill(view, {"leaderboard": ["on"]}), user=ADMIN)
    assert answer.json()["response_action"] == "errors"
    assert "Only workspace admins" in json.dumps(answer.json())
    with db.session() as session:
        assert session.get(ChannelSettings, (TEAM_ID, "C_TEAM")) is None


def test_admin_rights_are_checked_again_when_the_prompts_are_submitted(bot, fake_slack, db):
    bot.slack.command("prompts", command="/hope", user=ADMIN)
    view = fake_slack.wait_for("views.update")[0].body["view"]
    fake_slack.users[ADMIN]["is_admin"] = False
    forget_answers(bot)
    answer = bot.slack.view_submission(view, fill(view, {"hope_prompt_1": "Changed?"}),
                                       user=ADMIN)
    assert answer.json()["response_action"] == "errors"
    assert "Happened" in bot_prompts(bot, fake_slack)


def bot_prompts(bot, fake_slack) -> str:
    before = len(fake_slack.calls_to("views.open"))
    bot.slack.command("", command="/hope", user="U_ALICE")
    return json.dumps(fake_slack.wait_for("views.open", before + 1)[before].body["view"])


def forget_answers(bot) -> None:
    """Slack's answers are kept a minute; a test that changes them starts afresh."""
    directory = getattr(bot.runtime, "directory", None)  # (none before this rule existed)
    if directory is not None:
        directory.forget()


def test_the_debrief_form_is_rechecked_against_its_channel_when_submitted(
        bot, fake_slack, db):
    from bot.db.models import Entry

    bot.slack.command("", user="U_ALICE", channel="C_TEAM")
    view = fake_slack.wait_for("views.open")[0].body["view"]
    fake_slack.memberships["U_ALICE"] = ["C_OTHER"]  # removed from #team meanwhile
    answer = bot.slack.view_submission(view, fill(view, {"kind": "lesson",
                                                         "text": "said in the wrong room"}),
                                       user="U_ALICE")
    assert answer.json()["response_action"] == "errors"  # the form stays, text and all
    assert "no longer in the channel" in json.dumps(answer.json())
    with db.session() as session:
        assert session.scalars(select(Entry)).all() == []


def test_the_debrief_form_saves_nothing_when_slack_does_not_say_who_is_in_its_channel(
        bot, fake_slack, db):
    """One rule with the service's (access.require_in_channel): without Slack's answer the
    entry is refused, and the form stays open with the text in it to try again."""
    from bot.db.models import Entry

    bot.slack.command("", user="U_ALICE", channel="C_TEAM")
    view = fake_slack.wait_for("views.open")[0].body["view"]
    forget_answers(bot)
    fake_slack.fail("users.conversations", status=500, times=5)
    answer = bot.slack.view_submission(view, fill(view, {"kind": "lesson",
                                                         "text": "kept while Slack is down"}),
                                       user="U_ALICE")
    assert answer.status == 200
    assert answer.json()["response_action"] == "errors"  # the form stays, text and all
    said = answer.json()["errors"]["text"]
    assert "could not check with Slack" in said and "Your text is kept here" in said
    with db.session() as session:
        assert session.scalars(select(Entry)).all() == []
    fake_slack.heal("users.conversations")
    forget_answers(bot)
    again = bot.slack.view_submission(view, fill(view, {"kind": "lesson",
                                                        "text": "kept while Slack is down"}),
                                      user="U_ALICE")
    assert again.status == 200 and not again.body.strip(b"{}")
    with db.session() as session:
        assert [e.text for e in session.scalars(select(Entry))] == ["kept while Slack is down"]
