"""Settings (PRODUCT.md §2, §4, §6, §7): which emoji count, per-channel leaderboards, the
HOPE prompts; changed by workspace admins only."""

from __future__ import annotations

import pytest

from bot.db.models import WorkspaceSettings
from bot.services import reflections, settings
from bot.services.errors import UserError
from bot.services.reflections import ReflectionError
from tests.services.kit import CH, CH2, OTHER_WS, WS, count, unit


@pytest.mark.parametrize(("typed", "chosen"), [
    (":tada: :clap:, +1", ["tada", "clap", "+1"]),
    (":Tada: tada :tada::skin-tone-4:", ["tada"]),
    ("", None),
    ("  ,  ", None),
])
def test_the_emoji_that_count_are_read_from_what_the_admin_typed(typed, chosen):
    assert settings.parse_emoji(typed) == chosen


@pytest.mark.parametrize("typed", [":ta/da:", "<script>", ":tada: @here"])
def test_something_that_is_not_an_emoji_name_is_refused(typed):
    with pytest.raises(UserError):
        settings.parse_emoji(typed)


def test_every_emoji_counts_until_an_admin_narrows_the_set(db):
    with unit(db) as session:
        assert settings.choices(session, WS, CH) == settings.Choices(None, False)
        settings.save(session, WS, CH, "U_ADMIN", applause_emoji=["tada"], leaderboard=True)
    with unit(db) as session:
        assert settings.choices(session, WS, CH) == settings.Choices(["tada"], True)
        # The emoji are the workspace's; the leaderboard is this channel's alone.
        assert settings.choices(session, WS, CH2) == settings.Choices(["tada"], False)
        assert settings.choices(session, OTHER_WS, CH) == settings.Choices(None, False)


@pytest.mark.parametrize(("user", "admin"), [
    ({"id": "U1", "is_admin": True}, True),
    ({"id": "U1", "is_owner": True}, True),
    ({"id": "U1", "is_primary_owner": True}, True),
    ({"id": "U1"}, False),
    ({"id": "U1", "is_admin": False, "is_restricted": True}, False),
    ({"id": "U1", "is_ultra_restricted": True}, False),
])
def test_only_workspace_admins_and_owners_may_change_settings(user, admin):
    assert settings.is_workspace_admin(user) is admin


def test_an_admin_changes_the_hope_prompts_and_may_go_back_to_the_defaults(db):
    mine = ["What happened?", "What came of it?", "Who could help?", "What next?"]
    with unit(db) as session:
        reflections.set_prompts(session, WS, "U_ADMIN", [f" {p} " for p in mine])
    with unit(db) as session:
        assert reflections.prompts_for(session, WS) == mine
        assert reflections.prompts_for(session, OTHER_WS) == list(reflections.DEFAULT_PROMPTS)
        reflections.set_prompts(session, WS, "U_ADMIN", None)
    with unit(db) as session:
        assert reflections.prompts_for(session, WS) == list(reflections.DEFAULT_PROMPTS)


@pytest.mark.parametrize("prompts", [
    ["One", "Two", "Three"],
    ["One", "Two", "Three", "Four", "Five"],
    ["One", "", "Three", "Four"],
    ["One", "Two", "   ", "Four"],
    ["One", "Two", "Three", "x" * 1000],
])
def test_prompts_that_are_missing_empty_or_overlong_are_refused_and_nothing_changes(
        db, prompts):
    with unit(db) as session, pytest.raises(ReflectionError):
        reflections.set_prompts(session, WS, "U_ADMIN", prompts)
    assert count(db, WorkspaceSettings) == 0
    with unit(db) as session:
        assert reflections.prompts_for(session, WS) == list(reflections.DEFAULT_PROMPTS)
