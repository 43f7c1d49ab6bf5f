"""Search (PRODUCT.md §2, §7): the best matches among what the caller may see, newest
first on ties; private never for others; anonymous authors never shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from bot.db.models import Entry, Visibility
from bot.services import search
from bot.services.errors import UserError
from bot.views.search import results
from tests.services.kit import CH, CH2, CH3, OTHER_WS, WS, log, unit


def find(db, user: str, query: str, channel: str = CH, team: str = WS) -> list[Entry]:
    with unit(db) as session:
        return search.search(session, search.Viewer(team, user, channel), query)


def test_the_caller_sees_their_own_org_wide_and_this_channels_team_entries(db):
    visible = {
        log(db, "U_ANA", "runbook: my own private note", visibility=Visibility.PRIVATE).id,
        log(db, "U_BEN", "runbook for the org", channel=CH3, visibility=Visibility.ORG).id,
        log(db, "U_BEN", "runbook in this channel", channel=CH).id,
    }
    log(db, "U_BEN", "runbook: Ben's private note", visibility=Visibility.PRIVATE)
    log(db, "U_BEN", "runbook in a channel Ana is not known to be in", channel=CH3)
    log(db, "U_BEN", "runbook in another workspace", team=OTHER_WS, visibility=Visibility.ORG)
    assert {e.id for e in find(db, "U_ANA", "runbook")} == visible


def test_team_entries_come_from_the_channels_slack_says_the_caller_is_in_now(db):
    bens_in_c2 = log(db, "U_BEN", "runbook of the second channel", channel=CH2)
    log(db, "U_BEN", "runbook of the third channel", channel=CH3)
    log(db, "U_ANA", "my own words in the third channel", channel=CH3)  # she wrote there once
    with unit(db) as session:
        viewer = search.Viewer(WS, "U_ANA", CH, channels=frozenset({CH, CH2}))
        assert [e.id for e in search.search(session, viewer, "runbook")] == [bens_in_c2.id]


def test_a_guest_sees_their_channels_and_never_organisation_wide_entries(db):
    here = log(db, "U_BEN", "runbook in this channel", channel=CH)
    log(db, "U_BEN", "runbook for the org", channel=CH3, visibility=Visibility.ORG)
    with unit(db) as session:
        guest = search.Viewer(WS, "U_GUEST", CH, channels=frozenset({CH}), guest=True)
        assert [e.id for e in search.search(session, guest, "runbook")] == [here.id]
        unknown = search.Viewer(WS, "U_ANA", CH, channels=None, guest=None)  # Slack silent
        assert [e.id for e in search.search(session, unknown, "runbook")] == [here.id]


def test_someone_elses_private_entry_is_never_found_even_by_its_exact_words(db):
    log(db, "U_BEN", "I broke production quietly", visibility=Visibility.PRIVATE)
    assert find(db, "U_ANA", "broke production quietly") == []
    assert len(find(db, "U_BEN", "broke production quietly")) == 1  # its author finds it


def test_an_anonymous_entry_is_found_but_never_shows_its_author(db):
    log(db, "U_BEN", "Skipped the canary and regretted it", anonymous=True)
    hits = find(db, "U_ANA", "canary")
    assert len(hits) == 1
    shown = results("canary", hits, "U_ANA")
    assert "Skipped the canary" in shown and "U_BEN" not in shown
    assert len(find(db, "U_BEN", "canary")) == 1  # and its author finds it too


def test_every_word_must_match(db):
    both = log(db, "U_BEN", "deploy then rollback")
    log(db, "U_BEN", "deploy without a plan")
    log(db, "U_BEN", "rollback drill")
    assert [e.id for e in find(db, "U_ANA", "deploy rollback")] == [both.id]


def test_equally_good_matches_come_newest_first(db):
    # Logged in the opposite order of their time, so ids do not give the answer away.
    with freeze_time(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):
        newer = log(db, "U_BEN", "Check the dashboards after deploy")
    with freeze_time(datetime(2026, 3, 1, 9, 0, tzinfo=UTC)):
        older = log(db, "U_CAM", "Check the dashboards after deploy")
    with freeze_time(datetime(2026, 3, 3, 9, 0, tzinfo=UTC)):
        assert [e.id for e in find(db, "U_ANA", "dashboards deploy")] == [newer.id, older.id]


def test_query_syntax_is_just_words(db):
    entry = log(db, "U_BEN", "Rollback NOT tested, OR so it seems")
    assert [e.id for e in find(db, "U_ANA", 'rollback" OR -tested* (')] == [entry.id]


@pytest.mark.parametrize("query", ["", "   ", "the and of", "!!!"])
def test_a_search_with_no_words_says_how_to_search(db, query):
    with pytest.raises(UserError):
        find(db, "U_ANA", query)
