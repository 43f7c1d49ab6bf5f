"""Forget me (PRODUCT.md §2, §7): the person's words and name go from everything the bot
keeps: entries, reflections, applause, card titles; nobody else's, no other workspace's."""

from __future__ import annotations

from bot.db.models import Applause, Card, Entry, Kind, Reflection, Visibility
from bot.ids import OutboxAction
from bot.services import cards, forget, reflections
from tests.services.kit import (
    CH,
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
from tests.services.kit import rows as stored


def forget_me(db, user: str = "U_ANA", team: str = WS) -> forget.Footprint:
    with unit(db) as session:
        return forget.forget(session, team, user)


def reflect(db, author: str, team: str = WS) -> None:
    with unit(db) as session:
        reflections.save(session, team, author, list(reflections.DEFAULT_PROMPTS),
                         ["it happened", "", "", ""])


def test_forget_me_erases_the_persons_entries_reflections_and_applause(db):
    team = log(db, "U_ANA", "Ana's team lesson")
    log(db, "U_ANA", "Ana's private doubt", visibility=Visibility.PRIVATE)
    anonymous = log(db, "U_ANA", "Ana's anonymous lesson", anonymous=True)
    bens = log(db, "U_BEN", "Ben's win", kind=Kind.WIN)
    reflect(db, "U_ANA")
    reflect(db, "U_BEN")
    react(db, "U_BEN", posted(db, team))  # received
    react(db, "U_CAM", posted(db, anonymous))  # received, anonymously
    bens_ts = posted(db, bens)
    react(db, "U_ANA", bens_ts)  # given
    react(db, "U_CAM", bens_ts)  # nothing to do with Ana
    with unit(db) as session:
        before = forget.footprint(session, WS, "U_ANA")
    assert (before.entries, before.reflections, before.applause_given,
            before.applause_received) == (3, 1, 1, 2)
    forget_me(db)
    assert [e.author_id for e in stored(db, Entry)] == ["U_BEN"]
    assert [r.author_id for r in stored(db, Reflection)] == ["U_BEN"]
    assert [(a.reactor_id, a.author_id) for a in stored(db, Applause)] == [("U_CAM", "U_BEN")]
    with unit(db) as session:
        assert forget.footprint(session, WS, "U_ANA").empty


def test_forget_me_takes_down_the_messages_of_the_persons_entries(db):
    ts = [posted(db, log(db, "U_ANA", f"lesson {n}")) for n in range(2)]
    log(db, "U_ANA", "not posted yet")
    posted(db, log(db, "U_BEN", "Ben's"))
    forget_me(db)
    taken_down = queued(db, OutboxAction.DELETE_MESSAGE)
    assert sorted((row.channel_id, row.target_ts) for row in taken_down) == \
        sorted((CH, t) for t in ts)


def test_forget_me_touches_no_other_workspace(db):
    log(db, "U_ANA", "here")
    log(db, "U_ANA", "in the other workspace", team=OTHER_WS)
    reflect(db, "U_ANA", team=OTHER_WS)
    forget_me(db)
    assert [e.team_id for e in stored(db, Entry)] == [OTHER_WS]
    assert count(db, Reflection) == 1


def test_a_cards_tallies_and_debrief_drop_what_was_forgotten(db):
    with unit(db) as session:
        card = cards.open_card(session, team_id=WS, channel_id=CH, user_id="U_BEN",
                               title="Checkout")
    log(db, "U_ANA", "Ana's lesson on the card", card_id=card.id)
    log(db, "U_BEN", "Ben's lesson on the card", card_id=card.id)
    forget_me(db)
    with unit(db) as session:
        row = session.get(Card, card.id)
        assert cards.tally(session, row).lessons == 1
        assert [i.text for i in cards.debrief(session, row)] == ["Ben's lesson on the card"]
        assert row.revision > row.shown_revision  # Slack's copy is due a refresh


def test_forget_me_removes_the_persons_name_and_words_from_card_titles(db):
    with unit(db) as session:
        card = cards.open_card(session, team_id=WS, channel_id=CH, user_id="U_ANA",
                               title="Ana's secret rewrite")
    card_posted(db, card)
    forget_me(db)
    left = stored(db, Card)
    assert all(c.opened_by != "U_ANA" and "Ana's secret rewrite" not in c.title for c in left)
