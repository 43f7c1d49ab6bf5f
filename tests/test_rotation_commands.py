"""`/debrief rotation …` and its settings modal, as a person in Slack uses them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Rotation, RotationMember
from bot.services import rotation
from tests.kit.slack_requests import fill

ANA, BEN = "<@U_ANA|ana>", "<@U_BEN|ben>"


@pytest.fixture
def people(fake_slack):
    fake_slack.users.update({
        "U_ALICE": {"id": "U_ALICE", "deleted": False, "tz": "America/New_York"},
        "U_ANA": {"id": "U_ANA", "deleted": False, "tz": "Europe/Berlin"},
        "U_BEN": {"id": "U_BEN", "deleted": False, "tz": "Europe/Berlin"},
    })
    yield fake_slack.users
    fake_slack.users.clear()


def stored(db) -> tuple[Rotation | None, list[str]]:
    with db.session() as session:
        rota = rotation.get(session, "T0001", "C_TEAM")
        roster = [m.user_id for m in rotation.members(session, rota)] if rota else []
        return rota, roster


def test_roster_add_remove_join_leave(bot, db):
    answer = bot.slack.command(f"rotation add {ANA} {BEN}")
    assert "Added <@U_ANA>, <@U_BEN> to the rotation" in answer.text
    assert "rotation schedule" in answer.text  # what to do next
    assert "already in it" in bot.slack.command(f"rotation add {ANA}").text
    assert "You joined the rotation" in bot.slack.command("rotation join").text
    assert stored(db)[1] == ["U_ANA", "U_BEN", "U_ALICE"]
    assert "Removed <@U_BEN>" in bot.slack.command(f"rotation remove {BEN}").text
    assert "You left the rotation" in bot.slack.command("rotation leave").text
    assert stored(db)[1] == ["U_ANA"]


@pytest.mark.parametrize("text", ["rotation add @ana", "rotation add ana", "rotation add"])
def test_people_slack_did_not_resolve_are_refused(bot, db, text):
    answer = bot.slack.command(text)
    assert ":warning: I can't tell who" in answer.text
    assert stored(db) == (None, [])


def test_schedule_with_a_zone_is_set_at_once(bot, db):
    bot.slack.command(f"rotation add {ANA}")
    answer = bot.slack.command("rotation schedule mon,wed,fri 09:30 Europe/Berlin lead 15")
    assert "The rotation meets Mon, Wed, Fri at 09:30 (Europe/Berlin), reminder 15 min" \
        in answer.text
    assert "First meeting" in answer.text
    rota, _ = stored(db)
    assert (rota.days, rota.meeting_time, rota.tz_name, rota.lead_minutes) == (
        "024", "09:30", "Europe/Berlin", 15)
    assert rota.next_reminder_at is not None


def test_schedule_without_a_zone_uses_the_callers_slack_zone_after_the_ack(
        bot, db, fake_slack, people):
    bot.slack.command(f"rotation add {ANA}")
    gate = fake_slack.hold("users.info")  # Slack is slow: the command is answered anyway
    answer = bot.slack.command("rotation schedule weekdays 10:00")
    assert "I'll confirm in a moment" in answer.text
    assert stored(db)[0].tz_name is None  # nothing changed yet
    gate.set()
    confirm = fake_slack.wait_for("chat.postEphemeral")[0]
    assert confirm.body["user"] == "U_ALICE"
    assert "(America/New_York)" in confirm.body["text"]
    assert stored(db)[0].tz_name == "America/New_York"


@pytest.mark.parametrize(("text", "says"), [
    ("rotation schedule mon 09:30 Moon/Base", "I don't know the time zone `Moon/Base`"),
    ("rotation schedule someday 09:30 Europe/Berlin", "I don't know the day `someday`"),
    ("rotation schedule mon 9h30 Europe/Berlin", "is not a time"),
    ("rotation holidays XX", "I don't know public holidays for `XX`"),
    ("rotation away <@U_ANA|ana> until tomorrow", "is not a date"),
    ("rotation away <@U_BEN|ben> until 2099-01-01", "<@U_BEN> is not in this channel's rotation"),
    ("rotation away <@U_ANA|ana> until 2020-01-01", "2020-01-01 is in the past"),
    ("rotation away <@U_ANA|ana> for a while", "rotation away @ana until"),
    ("rotation holidays", "Which country?"),
    ("rotation fly", "I don't know `rotation fly`"),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(bot, db, text, says):
    bot.slack.command(f"rotation add {ANA}")
    bot.slack.command("rotation schedule mon 09:30 Europe/Berlin")
    before = stored(db)
    answer = bot.slack.command(text)
    assert answer.text.startswith(":warning:") and says in answer.text
    after = stored(db)
    assert (after[0].days, after[0].tz_name, after[0].holiday_country, after[1]) == (
        before[0].days, before[0].tz_name, before[0].holiday_country, before[1])
    with db.session() as session:
        assert session.scalars(select(RotationMember.away_until)).all() == [None]


def test_an_empty_roster_cannot_be_scheduled(bot, db):
    answer = bot.slack.command("rotation schedule mon 09:30 Europe/Berlin")
    assert ":warning:" in answer.text and "rotation add" in answer.text
    bot.slack.command("rotation join")
    bot.slack.command("rotation leave")
    answer = bot.slack.command("rotation schedule mon 09:30")
    assert ":warning: Nobody is in this rotation yet" in answer.text
    assert stored(db)[0].days == ""
    assert "Nobody is in this channel's rotation" in bot.slack.command("rotation next").text


def test_next_shows_who_is_up_and_the_order(bot, db):
    bot.slack.command(f"rotation add {ANA} {BEN}")
    bot.slack.command("rotation schedule daily 09:30 Europe/Berlin")
    answer = bot.slack.command("rotation next")
    assert "<@U_ANA> is next for the meeting on" in answer.text
    assert "Then: <@U_BEN>, <@U_ANA>." in answer.text
    assert "meets Mon, Tue, Wed, Thu, Fri, Sat, Sun at 09:30 (Europe/Berlin)" in answer.text


def test_holidays_away_pause_resume(bot, db):
    bot.slack.command(f"rotation add {ANA} {BEN}")
    bot.slack.command("rotation schedule mon 09:30 Europe/Berlin")
    assert "No meeting on DE public holidays" in bot.slack.command("rotation holidays de").text
    assert "up to and including 2099-01-01" in \
        bot.slack.command(f"rotation away {ANA} until 2099-01-01").text
    assert "<@U_BEN> is next" in bot.slack.command("rotation next").text
    assert "is back" in bot.slack.command(f"rotation away {ANA} off").text
    assert "paused" in bot.slack.command("rotation pause").text
    assert stored(db)[0].next_reminder_at is None
    assert "on again" in bot.slack.command("rotation resume").text
    rota = stored(db)[0]
    assert rota.next_reminder_at is not None and rota.holiday_country == "DE"


def test_skip_without_a_turn_out_says_so(bot, db):
    bot.slack.command(f"rotation add {ANA}")
    assert "No turn is out for today yet" in bot.slack.command("rotation skip").text


def test_the_settings_modal_opens_after_the_ack_and_saves(bot, db, fake_slack, people):
    bot.slack.command(f"rotation add {ANA}")
    gate = fake_slack.hold("views.open")
    assert bot.slack.command("rotation").status == 200
    gate.set()
    view = fake_slack.wait_for("views.open")[0].body["view"]
    assert view["callback_id"] == "rotation_settings"

    bad = bot.slack.view_submission(view, fill(view, {
        "rotation_members": [], "rotation_days": [], "rotation_tz": "Nowhere/Land",
        "rotation_lead": "10", "rotation_time": "09:30"}))
    errors = bad.json()["errors"]
    assert set(errors) == {"rotation_members", "rotation_days", "rotation_tz"}
    assert stored(db)[1] == ["U_ANA"]  # nothing changed

    good = bot.slack.view_submission(view, fill(view, {
        "rotation_members": ["U_ANA", "U_BEN"], "rotation_days": ["0", "3"],
        "rotation_time": "10:15", "rotation_tz": "Europe/Berlin", "rotation_lead": "5",
        "rotation_holidays": "fr", "rotation_paused": []}))
    assert good.status == 200 and not good.body.strip(b"{}")
    rota, roster = stored(db)
    assert roster == ["U_ANA", "U_BEN"]
    assert (rota.days, rota.meeting_time, rota.tz_name, rota.lead_minutes,
            rota.holiday_country) == ("03", "10:15", "Europe/Berlin", 5, "FR")
    assert "Mon, Thu at 10:15" in fake_slack.wait_for("chat.postEphemeral")[0].body["text"]


def test_a_roster_command_that_fails_halfway_changes_nothing(bot, db):
    bot.slack.command(f"rotation add {ANA}")
    answer = bot.slack.command(f"rotation remove {ANA} {BEN}")
    assert ":warning: <@U_BEN> is not in this channel's rotation" in answer.text
    assert stored(db)[1] == ["U_ANA"]


def test_member_holidays(bot, db):
    bot.slack.command(f"rotation add {ANA}")
    assert "passed over on US public holidays" in \
        bot.slack.command(f"rotation holidays {ANA} us").text
    assert ":warning:" in bot.slack.command(f"rotation holidays {ANA} zz").text
    with db.session() as session:
        assert session.scalars(select(RotationMember.holiday_country)).all() == ["US"]
