"""The rotation form's time zone and holiday country: searchable selects whose options the
bot filters as the person types (Slack's Options Load URL), the current values chosen."""

from __future__ import annotations

import pytest
import yaml

from tests.kit.slack_requests import fill
from tests.test_rotation_commands import ANA, people, stored  # noqa: F401 (a fixture)
from tests.test_running import ROOT


def open_form(bot, fake_slack) -> dict:
    before = len(fake_slack.calls_to("views.open"))
    bot.slack.command("rotation")
    return fake_slack.wait_for("views.open", before + 1)[before].body["view"]


def field(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


def offered(bot, view: dict, block_id: str, typed: str) -> list[dict]:
    answer = bot.slack.block_suggestion(view, block_id, typed)
    assert answer.status == 200
    return answer.json()["options"]


def test_the_form_has_searchable_selects_with_the_current_values(bot, fake_slack, db):
    bot.slack.command(f"rotation add {ANA}")
    bot.slack.command("rotation schedule mon 09:30 America/New_York")
    bot.slack.command("rotation holidays DE")
    view = open_form(bot, fake_slack)
    zone, country = field(view, "rotation_tz"), field(view, "rotation_holidays")
    assert zone["type"] == country["type"] == "external_select"
    assert zone["initial_option"]["value"] == "America/New_York"
    assert zone["initial_option"]["text"]["text"].startswith("America/New York (UTC−0")
    assert (country["initial_option"]["value"], country["initial_option"]["text"]["text"]) \
        == ("DE", "Germany (DE)")
    assert zone["min_query_length"] == country["min_query_length"] == 0


def test_a_new_rotation_starts_with_nothing_chosen(bot, fake_slack, db):
    view = open_form(bot, fake_slack)
    assert "initial_option" not in field(view, "rotation_tz")
    assert "initial_option" not in field(view, "rotation_holidays")


@pytest.mark.parametrize("typed, first", [
    ("berlin", "Europe/Berlin"), ("new york", "America/New_York"), ("york", "America/New_York"),
    ("sao pa", "America/Sao_Paulo"), ("UTC", "UTC"), ("Europe/Lis", "Europe/Lisbon"),
])
def test_time_zones_are_found_by_what_is_typed(bot, fake_slack, db, typed, first):
    options = offered(bot, open_form(bot, fake_slack), "rotation_tz", typed)
    assert options[0]["value"] == first
    assert "UTC" in options[0]["text"]["text"]


def test_the_zone_list_stays_within_slacks_100_and_starts_with_your_own(bot, fake_slack, db):
    view = open_form(bot, fake_slack)
    everything = offered(bot, view, "rotation_tz", "")
    assert 1 < len(everything) <= 100
    assert (everything[0]["value"], everything[0]["text"]["text"]) == (
        "slack", "Your Slack time zone")
    assert len(offered(bot, view, "rotation_tz", "america")) == 100  # many: the best 100
    assert offered(bot, view, "rotation_tz", "atlantis") == []
    assert all(len(o["text"]["text"]) <= 75 for o in everything)


@pytest.mark.parametrize("typed, first", [
    ("germ", "DE"), ("de", "DE"), ("uk", "GB"), ("gbr", "GB"), ("kingdom", "GB"),
    ("united st", "US"), ("bosnia", "BA"),
])
def test_holiday_countries_are_found_by_name_or_code(bot, fake_slack, db, typed, first):
    options = offered(bot, open_form(bot, fake_slack), "rotation_holidays", typed)
    assert options[0]["value"] == first


def test_no_holidays_is_a_choice(bot, fake_slack, db):
    options = offered(bot, open_form(bot, fake_slack), "rotation_holidays", "")
    assert options[0]["value"] == "none"
    assert len(options) <= 100


def test_saving_the_chosen_options(bot, fake_slack, db, people):  # noqa: F811
    bot.slack.command(f"rotation add {ANA}")
    bot.slack.command("rotation holidays FR")
    view = open_form(bot, fake_slack)
    zone = offered(bot, view, "rotation_tz", "berlin")[0]
    answer = bot.slack.view_submission(view, fill(view, {
        "rotation_days": ["0"], "rotation_time": "10:00", "rotation_tz": zone,
        "rotation_holidays": offered(bot, view, "rotation_holidays", "none")[0],
        "rotation_lead": "10", "rotation_paused": []}))
    assert answer.status == 200 and b"errors" not in answer.body
    rota, _ = stored(db)
    assert (rota.tz_name, rota.holiday_country) == ("Europe/Berlin", None)

    # "Your Slack time zone": the caller's, as Slack says (users.info, after the ack).
    view = open_form(bot, fake_slack)
    bot.slack.view_submission(view, fill(view, {
        "rotation_days": ["0"], "rotation_lead": "10",
        "rotation_tz": offered(bot, view, "rotation_tz", "")[0],
        "rotation_holidays": offered(bot, view, "rotation_holidays", "united kingdom")[0]}))
    fake_slack.wait_for("users.info")
    bot.settle()
    rota, _ = stored(db)
    assert (rota.tz_name, rota.holiday_country) == ("America/New_York", "GB")


def test_a_forged_option_is_refused_and_changes_nothing(bot, fake_slack, db):
    bot.slack.command(f"rotation add {ANA}")
    view = open_form(bot, fake_slack)
    answer = bot.slack.view_submission(view, fill(view, {
        "rotation_days": ["0"], "rotation_lead": "10", "rotation_tz": "Mars/Olympus",
        "rotation_holidays": "ZZ"}))
    assert set(answer.json()["errors"]) == {"rotation_tz", "rotation_holidays"}
    assert stored(db)[0].days in ("", None)


def test_the_manifest_names_the_options_load_url():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["message_menu_options_url"] == interactivity["request_url"]
    assert interactivity["message_menu_options_url"].endswith("/slack/events")
