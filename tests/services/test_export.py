"""Export (PRODUCT.md §2, §7): the channel's team-visible entries; never a private one;
anonymous entries without their author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from bot.db.models import Kind, OutboxMessage, Visibility
from bot.ids import OutboxAction
from bot.services import export
from bot.services.errors import UserError
from tests.services.kit import CH, CH2, OTHER_WS, WS, count, log, posted, queued, react, unit


def exported(db, channel: str = CH) -> list[export.ExportRow]:
    with unit(db) as session:
        return export.channel_entries(session, WS, channel)


def test_the_export_holds_the_channels_team_and_org_entries_oldest_first(db):
    start = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    with freeze_time(start + timedelta(hours=2)):
        org = log(db, "U_BEN", "Org lesson posted here", visibility=Visibility.ORG)
    with freeze_time(start + timedelta(hours=1)):
        team = log(db, "U_ANA", "Team win", kind=Kind.WIN)
    log(db, "U_ANA", "Another channel's", channel=CH2)
    log(db, "U_ANA", "Another workspace's", team=OTHER_WS)
    react(db, "U_CAM", posted(db, team))
    rows = exported(db)
    assert [(r.entry_id, r.author_id, r.text, r.applause) for r in rows] == [
        (team.id, "U_ANA", "Team win", 1), (org.id, "U_BEN", "Org lesson posted here", 0)]


def test_a_private_entry_never_leaves_its_author_not_even_in_their_own_export(db):
    log(db, "U_ANA", "Shared")
    log(db, "U_ANA", "My private doubt", visibility=Visibility.PRIVATE)
    assert [r.text for r in exported(db)] == ["Shared"]


def test_an_anonymous_entry_is_exported_without_its_author(db):
    log(db, "U_ANA", "I skipped the review", anonymous=True)
    [row] = exported(db)
    assert row.author_id is None and row.text == "I skipped the review"


def test_an_export_is_queued_for_the_channel_with_the_chosen_format(db):
    log(db, "U_ANA", "Team win", kind=Kind.WIN)
    with unit(db) as session:
        held = export.request_export(session, team_id=WS, channel_id=CH, user_id="U_BEN",
                                     fmt=export.parse_format("markdown"))
    assert held == 1
    [upload] = queued(db, OutboxAction.UPLOAD_EXPORT)
    assert (upload.channel_id, upload.user_id, upload.payload) == (
        CH, "U_BEN", {"format": "md", "team_only": False})


def test_with_nothing_the_team_may_see_there_is_nothing_to_export(db):
    log(db, "U_ANA", "private", visibility=Visibility.PRIVATE)
    with unit(db) as session, pytest.raises(UserError):
        export.request_export(session, team_id=WS, channel_id=CH, user_id="U_ANA", fmt="csv")
    assert count(db, OutboxMessage, OutboxMessage.action == OutboxAction.UPLOAD_EXPORT) == 0


@pytest.mark.parametrize(("typed", "fmt"), [("", "csv"), ("CSV", "csv"), ("md", "md")])
def test_the_format_is_csv_unless_markdown_is_asked_for(typed, fmt):
    assert export.parse_format(typed) == fmt


def test_an_unknown_format_is_refused():
    with pytest.raises(UserError):
        export.parse_format("pdf")
