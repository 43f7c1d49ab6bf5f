"""Deliverable cards (PRODUCT.md §3, §7): tallies kept current and blind to private
entries, the debrief on closing, closing once, by the right person."""

from __future__ import annotations

import pytest

from bot.db.models import Card, Kind, OutboxMessage, Visibility
from bot.ids import OutboxAction
from bot.services import cards
from bot.services.cards import CardError
from tests.services.kit import (
    CH,
    CH2,
    OTHER_WS,
    WS,
    card_posted,
    count,
    log,
    posted,
    queued,
    react,
    unit,
)


def open_card(db, title: str = "New checkout", by: str = "U_ANA") -> Card:
    with unit(db) as session:
        return cards.open_card(session, team_id=WS, channel_id=CH, user_id=by, title=title)


def tally(db, card: Card) -> cards.Tally:
    with unit(db) as session:
        return cards.tally(session, session.get_one(Card, card.id))


def debrief(db, card: Card) -> list[cards.DebriefItem]:
    with unit(db) as session:
        return cards.debrief(session, session.get_one(Card, card.id))


def close(db, card: Card, by: str = "U_ANA") -> Card:
    with unit(db) as session:
        return cards.close_card(session, team_id=WS, channel_id=CH, user_id=by, ref=str(card.id))


def test_opening_a_card_queues_its_message(db):
    card = open_card(db)
    [post] = queued(db, OutboxAction.POST_CARD)
    assert (post.card_id, post.channel_id) == (card.id, CH)


@pytest.mark.parametrize("title", ["", "   ", "x" * 151])
def test_a_card_without_a_title_or_with_a_very_long_one_is_refused(db, title):
    with pytest.raises(CardError):
        open_card(db, title)
    assert count(db, Card) == 0 and count(db, OutboxMessage) == 0


def test_the_tallies_count_entries_by_kind_and_their_applause_but_no_private_entry(db):
    card = open_card(db)
    win = log(db, "U_BEN", "Shipped behind a flag", kind=Kind.WIN, card_id=card.id)
    log(db, "U_CAM", "Tests were slow", kind=Kind.OPPORTUNITY, card_id=card.id)
    log(db, "U_BEN", "Flags make rollbacks cheap", card_id=card.id, visibility=Visibility.ORG)
    log(db, "U_BEN", "I nearly shipped without tests", kind=Kind.LESSON, card_id=card.id,
        visibility=Visibility.PRIVATE)
    win_ts = posted(db, win)
    react(db, "U_CAM", win_ts)
    react(db, "U_DAN", card_posted(db, card))
    react(db, "U_BEN", win_ts, "clap")  # the author's own: never counts
    assert tally(db, card) == cards.Tally(wins=1, opportunities=1, lessons=1, applause=2)


def test_an_entry_on_the_card_queues_a_refresh_of_its_tallies(db):
    card = open_card(db)
    before = tally(db, card)
    log(db, "U_BEN", "Shipped it", kind=Kind.WIN, card_id=card.id)
    refresh = [row for row in queued(db, OutboxAction.UPDATE_CARD) if row.status == "pending"]
    assert [row.card_id for row in refresh] == [card.id]
    assert tally(db, card).wins == before.wins + 1


def test_a_private_entry_on_the_card_changes_nothing_anyone_sees(db):
    card = open_card(db)
    log(db, "U_BEN", "Only mine", card_id=card.id, visibility=Visibility.PRIVATE)
    assert queued(db, OutboxAction.UPDATE_CARD) == []
    assert tally(db, card) == cards.Tally()


def test_closing_queues_the_debrief_grouped_by_kind_most_applauded_first(db):
    card = open_card(db)
    quiet = log(db, "U_BEN", "Lesson nobody clapped", card_id=card.id)
    loved = log(db, "U_CAM", "Lesson everybody loved", card_id=card.id)
    opp = log(db, "U_DAN", "Opportunity", kind=Kind.OPPORTUNITY, card_id=card.id)
    win = log(db, "U_BEN", "Win", kind=Kind.WIN, card_id=card.id)
    anonymous = log(db, "U_EVE", "Anonymous win", kind=Kind.WIN, card_id=card.id,
                    anonymous=True)
    log(db, "U_BEN", "Private lesson", card_id=card.id, visibility=Visibility.PRIVATE)
    loved_ts = posted(db, loved)
    for person in ("U_ANA", "U_BEN", "U_DAN"):
        react(db, person, loved_ts)
    react(db, "U_ANA", posted(db, anonymous))
    closed = close(db, card)
    assert closed.status == "closed"
    [post] = queued(db, OutboxAction.POST_CARD_DEBRIEF)
    assert (post.card_id, post.channel_id) == (card.id, CH)
    items = debrief(db, card)
    assert {i.entry_id for i in items} == {anonymous.id, win.id, opp.id, loved.id, quiet.id}
    kinds = [i.kind for i in items]
    assert all(kinds.index(kind) == i or kinds[i - 1] == kind for i, kind in enumerate(kinds))
    assert [i.entry_id for i in items if i.kind == Kind.LESSON] == [loved.id, quiet.id]
    assert [i.entry_id for i in items if i.kind == Kind.WIN] == [anonymous.id, win.id]
    by_id = {i.entry_id: i for i in items}
    assert (by_id[loved.id].applause, by_id[anonymous.id].applause) == (3, 1)
    assert by_id[anonymous.id].author_id is None and by_id[win.id].author_id == "U_BEN"


def test_closing_a_card_twice_is_refused_and_posts_one_debrief(db):
    card = open_card(db)
    close(db, card)
    with pytest.raises(CardError):
        close(db, card)
    assert len(queued(db, OutboxAction.POST_CARD_DEBRIEF)) == 1


def test_no_entry_can_be_logged_on_a_closed_card_or_one_of_another_channel(db):
    card = open_card(db)
    with unit(db) as session, pytest.raises(CardError):
        cards.check_open(session, WS, CH2, card.id)
    close(db, card)
    with unit(db) as session, pytest.raises(CardError):
        cards.check_open(session, WS, CH, card.id)


def test_a_card_is_found_only_from_its_own_channel_and_workspace(db):
    card = open_card(db, "Launch")
    with unit(db) as session:
        assert cards.find_card(session, WS, CH, "launch").id == card.id
        for team, channel in ((WS, CH2), (OTHER_WS, CH)):
            with pytest.raises(CardError):
                cards.find_card(session, team, channel, str(card.id))
            with pytest.raises(CardError):
                cards.find_card(session, team, channel, "Launch")


def test_a_card_is_closed_only_by_its_opener(db):
    card = open_card(db, by="U_ANA")
    with pytest.raises(CardError):
        close(db, card, by="U_BEN")  # neither its opener nor (as far as we know) an admin
    assert queued(db, OutboxAction.POST_CARD_DEBRIEF) == []


def test_a_cards_tally_reads_the_same_whoever_reacted_to_an_anonymous_entry(db):
    totals = []
    for reactor, title in (("U_BEN", "First"), ("U_ANA", "Second")):
        card = open_card(db, title)
        entry = log(db, "U_ANA", "Anonymous lesson", card_id=card.id, anonymous=True)
        react(db, reactor, posted(db, entry))
        totals.append(tally(db, card).applause)
    assert totals[0] == totals[1]
