"""Applause (PRODUCT.md §6, §7): a reaction on a message that carries someone's work,
once per person, emoji and message; never one's own; taken back with the reaction."""

from __future__ import annotations

from bot.db.models import Applause, Kind, Visibility
from bot.services import cards, reflections, settings
from tests.services.kit import (
    CH,
    CH2,
    OTHER_WS,
    WS,
    card_posted,
    count,
    earlier,
    event_ts,
    log,
    new_ts,
    posted,
    react,
    rows,
    unit,
)


def posted_entry(db, author: str = "U_ANA", **kwargs) -> str:
    return posted(db, log(db, author, "Wrote the runbook", kind=Kind.WIN, **kwargs))


def applause_for(db, author: str) -> list[Applause]:
    return rows(db, Applause, Applause.author_id == author)


def test_a_reaction_on_an_entrys_message_is_applause_for_its_author(db):
    ts = posted_entry(db, "U_ANA")
    react(db, "U_BEN", ts, "tada")
    [clap] = rows(db, Applause)
    assert (clap.author_id, clap.reactor_id, clap.emoji) == ("U_ANA", "U_BEN", "tada")


def test_a_reaction_on_a_cards_message_is_applause_for_whoever_opened_it(db):
    with unit(db) as session:
        card = cards.open_card(session, team_id=WS, channel_id=CH, user_id="U_CAM",
                               title="Checkout")
    react(db, "U_BEN", card_posted(db, card))
    assert [a.reactor_id for a in applause_for(db, "U_CAM")] == ["U_BEN"]


def test_a_reaction_on_a_shared_reflection_is_applause_for_its_author(db):
    with unit(db) as session:
        mine = reflections.save(session, WS, "U_ANA", list(reflections.DEFAULT_PROMPTS),
                                ["It broke", "We learned", "Ops", "Test first"])
    with unit(db) as session:
        entry = reflections.share(session, reflections.own(session, WS, "U_ANA", mine.id),
                                  channel_id=CH, text="We learned: test first",
                                  visibility=Visibility.TEAM, anonymous=False)
    react(db, "U_BEN", posted(db, entry))
    assert [a.reactor_id for a in applause_for(db, "U_ANA")] == ["U_BEN"]


def test_once_per_person_emoji_and_message(db):
    ts, other = posted_entry(db), posted_entry(db)
    react(db, "U_BEN", ts, "tada")
    react(db, "U_BEN", ts, "tada")  # Slack sent it again under a new event id
    react(db, "U_BEN", ts, "clap")
    react(db, "U_CAM", ts, "tada")
    react(db, "U_BEN", other, "tada")
    counted = {(a.message_ts, a.reactor_id, a.emoji) for a in rows(db, Applause)}
    assert counted == {(ts, "U_BEN", "tada"), (ts, "U_BEN", "clap"), (ts, "U_CAM", "tada"),
                       (other, "U_BEN", "tada")}
    assert count(db, Applause) == 4


def test_an_event_delivered_twice_has_its_effect_once(db):
    ts = posted_entry(db)
    at = event_ts()
    react(db, "U_BEN", ts, event_id="Ev_SAME", at=at)
    react(db, "U_BEN", ts, event_id="Ev_SAME", at=at)
    assert count(db, Applause) == 1
    react(db, "U_BEN", ts, added=False, event_id="Ev_GONE")
    react(db, "U_BEN", ts, added=False, event_id="Ev_GONE")
    assert count(db, Applause) == 0


def test_reacting_to_ones_own_entry_never_counts(db):
    ts = posted_entry(db, "U_ANA")
    react(db, "U_ANA", ts, "tada")
    assert count(db, Applause) == 0


def test_reactions_on_messages_that_carry_no_work_are_ignored(db):
    posted_entry(db)
    react(db, "U_BEN", new_ts())  # any other message in the channel
    assert count(db, Applause) == 0


def test_a_reaction_in_another_workspace_never_lands_on_this_ones_entry(db):
    ts = posted_entry(db)
    react(db, "U_BEN", ts, team=OTHER_WS)  # the same ts, another workspace
    react(db, "U_BEN", ts, channel=CH2)  # the same ts, another channel
    assert count(db, Applause) == 0


def test_removing_the_reaction_removes_the_applause(db):
    ts = posted_entry(db)
    react(db, "U_BEN", ts, "tada")
    react(db, "U_BEN", ts, "clap")
    react(db, "U_BEN", ts, "tada", added=False)
    assert [a.emoji for a in rows(db, Applause)] == ["clap"]


def test_a_late_copy_of_a_reaction_taken_back_since_does_not_count_again(db):
    ts = posted_entry(db)
    added_at = event_ts()
    react(db, "U_BEN", ts, event_id="Ev_ADD", at=added_at)
    removed_at = event_ts()
    react(db, "U_BEN", ts, added=False, at=removed_at)
    react(db, "U_BEN", ts, event_id="Ev_ADD", at=added_at)  # Slack's retry of the add
    # Its first delivery failed, so only now, after the removal, does it arrive.
    react(db, "U_BEN", ts, event_id="Ev_ADD_FIRST_TRY_FAILED", at=earlier(removed_at))
    assert count(db, Applause) == 0
    react(db, "U_BEN", ts)  # reacting again later counts again
    assert count(db, Applause) == 1


def test_a_removal_that_arrives_before_its_reaction_wins(db):
    ts = posted_entry(db)
    added_at, removed_at = event_ts(), event_ts()
    react(db, "U_BEN", ts, added=False, at=removed_at)
    react(db, "U_BEN", ts, at=added_at)
    assert count(db, Applause) == 0


def test_a_workspace_that_narrows_the_emoji_counts_only_those(db):
    with unit(db) as session:
        settings.save(session, WS, CH, "U_ADMIN", applause_emoji=settings.parse_emoji(":tada: +1"),
                      leaderboard=False)
    ts = posted_entry(db)
    for emoji in ("tada", "+1::skin-tone-3", "eyes", "tad"):
        react(db, "U_BEN", ts, emoji)
    assert sorted(a.emoji for a in rows(db, Applause)) == ["+1::skin-tone-3", "tada"]


def test_a_workspace_that_chose_no_emoji_counts_every_emoji(db):
    with unit(db) as session:
        settings.save(session, WS, CH, "U_ADMIN", applause_emoji=settings.parse_emoji(""),
                      leaderboard=False)
    ts = posted_entry(db)
    react(db, "U_BEN", ts, "face_with_monocle")
    assert count(db, Applause) == 1


def test_applause_on_an_anonymous_entry_counts_for_its_author(db):
    ts = posted_entry(db, "U_ANA", anonymous=True)
    react(db, "U_BEN", ts)
    [clap] = rows(db, Applause)
    assert clap.author_id == "U_ANA" and clap.anonymous
    # (Who may see it: tests/services/test_kudos.py and test_home.py.)

