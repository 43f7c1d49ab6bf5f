"""Issue 15 part 4 at the service level: editing an entry, the App Home's history pages,
the time zones and countries offered, and "did you mean"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db.models import Applause, Card, CardStatus, Entry, Kind, Reflection, Visibility, utcnow
from bot.ids import OutboxAction
from bot.services import cards, entries, home, journal, nearmiss, places, search
from bot.services.entries import EntryError
from bot.services.search import Viewer
from tests.services.kit import CH, WS, log, posted, queued, react, rows, unit


def edit(db, user: str, entry_id: int, text: str) -> Entry:
    with unit(db) as session:
        return entries.edit_entry(session, WS, user, entry_id, text)


def test_an_edit_changes_text_and_tags_and_queues_the_same_message(db):
    entry = log(db, "U_ANA", "pin the image #docker")
    ts = posted(db, entry)
    react(db, "U_BEN", ts)
    edit(db, "U_ANA", entry.id, "pin the image and the lockfile #Supply #docker")
    [stored] = rows(db, Entry)
    assert (stored.text, stored.tags, stored.message_ts) == (
        "pin the image and the lockfile #Supply #docker", "supply docker", ts)
    [update] = queued(db, OutboxAction.UPDATE_ENTRY)
    assert (update.entry_id, update.channel_id) == (entry.id, CH)
    assert len(rows(db, Applause)) == 1  # the same message: its applause stays
    with unit(db) as session:
        found = search.search(session, Viewer(WS, "U_ANA", CH), "lockfile")
        assert [e.id for e in found] == [entry.id]
        assert search.search(session, Viewer(WS, "U_ANA", CH), "supply")


@pytest.mark.parametrize("text", ["", "  \n", "x" * 3001])
def test_an_edit_is_checked_like_a_new_entry_and_changes_nothing(db, text):
    entry = log(db, "U_ANA", "the words")
    with pytest.raises(EntryError):
        edit(db, "U_ANA", entry.id, text)
    assert rows(db, Entry)[0].text == "the words"
    assert queued(db, OutboxAction.UPDATE_ENTRY) == []


def test_only_the_author_may_edit_and_the_refusal_is_the_same_as_for_nothing(db):
    entry = log(db, "U_ANA", "anonymous words", anonymous=True)
    with pytest.raises(EntryError) as theirs:
        edit(db, "U_MALLORY", entry.id, "defaced")
    with pytest.raises(EntryError) as nothing:
        edit(db, "U_MALLORY", 4242, "defaced")
    assert str(theirs.value).replace(str(entry.id), "N") == \
        str(nothing.value).replace("4242", "N")
    assert "U_ANA" not in str(theirs.value)
    assert rows(db, Entry)[0].text == "anonymous words"


def test_a_private_entry_is_edited_without_anything_for_slack(db):
    entry = log(db, "U_ANA", "just me", visibility=Visibility.PRIVATE)
    edit(db, "U_ANA", entry.id, "just me, again")
    assert queued(db, OutboxAction.UPDATE_ENTRY) == []


def test_a_closed_cards_debrief_is_redrawn_once_for_a_burst_of_changes(db):
    with unit(db) as session:
        card = Card(team_id=WS, channel_id=CH, title="Checkout", opened_by="U_ANA",
                    status=CardStatus.CLOSED)
        session.add(card)
        session.flush()
        card_id = card.id
    first = log(db, "U_ANA", "one", card_id=card_id)
    second = log(db, "U_ANA", "two", card_id=card_id)
    edit(db, "U_ANA", first.id, "one, edited")
    edit(db, "U_ANA", second.id, "two, edited")
    with unit(db) as session:
        entries.delete_entry(session, WS, "U_ANA", first.id)
    [redraw] = queued(db, OutboxAction.UPDATE_CARD_DEBRIEF)
    assert redraw.card_id == card_id
    assert redraw.next_attempt_at > redraw.created_at  # waits for more changes


def test_an_open_cards_entries_queue_no_debrief(db):
    with unit(db) as session:
        card = Card(team_id=WS, channel_id=CH, title="Checkout", opened_by="U_ANA")
        session.add(card)
        session.flush()
        card_id = card.id
    entry = log(db, "U_ANA", "one", card_id=card_id)
    edit(db, "U_ANA", entry.id, "one, edited")
    with unit(db) as session:
        cards.debrief_changed(session, WS, card_id)
    assert queued(db, OutboxAction.UPDATE_CARD_DEBRIEF) == []


def test_the_history_merges_entries_and_reflections_newest_first_a_page_at_a_time(db):
    with unit(db) as session:
        base = utcnow()
        for n in range(30):
            at = base - timedelta(minutes=n)
            if n % 10 == 3:
                session.add(Reflection(team_id=WS, author_id="U_ANA", prompts=["H"],
                                       answers=["", f"thought {n}"], created_at=at))
            else:
                session.add(Entry(team_id=WS, channel_id=CH, author_id="U_ANA",
                                  kind=Kind.WIN, text=f"entry {n}", created_at=at,
                                  visibility=Visibility.PRIVATE if n % 2 else Visibility.TEAM))
        session.add(Entry(team_id=WS, channel_id=CH, author_id="U_BEN", kind=Kind.WIN,
                          text="not hers", created_at=base))
        session.add(Reflection(team_id=WS, author_id="U_BEN", prompts=["H"],
                               answers=["his"], created_at=base))
    with unit(db) as session:
        one = journal.journal(session, WS, "U_ANA", 1)
        two = journal.journal(session, WS, "U_ANA", 2)
        past_the_end = journal.journal(session, WS, "U_ANA", 99)

    def names(page: journal.Journal) -> list[str]:
        return [str(getattr(i, "text", None) or getattr(i, "preview", "")) for i in page.items]

    assert (one.total, one.pages, len(one.items), len(two.items)) == (30, 2, 25, 5)
    assert names(one)[:5] == ["entry 0", "entry 1", "entry 2", "thought 3", "entry 4"]
    assert names(two) == ["entry 25", "entry 26", "entry 27", "entry 28", "entry 29"]
    assert past_the_end.page == 2  # clamped
    assert not {"not hers", "his"} & set(names(one) + names(two))


def test_a_waiting_publish_shows_the_last_page_asked_for(db):
    with unit(db) as session:
        assert home.queue_publish(session, WS, "U_ANA") is True
        assert home.queue_publish(session, WS, "U_ANA", page=2) is False
        assert home.queue_publish(session, WS, "U_ANA", page=3) is False
    [row] = queued(db, OutboxAction.PUBLISH_HOME)
    assert row.payload == {"page": 3}


@pytest.mark.parametrize("typed, first", [
    ("berlin", "Europe/Berlin"), ("New_York", "America/New_York"), ("kolk", "Asia/Kolkata"),
])
def test_zones_offered_for_what_is_typed(typed, first):
    assert places.find_zones(typed)[0] == first
    assert len(places.find_zones("a")) == 100


def test_every_country_offered_is_one_the_rotation_accepts():
    from bot.services import schedule

    every = places.find_countries("", limit=1000)
    assert len(every) > 100
    assert all(schedule.country(c.code) == c.code for c in every)
    assert all(schedule.zone(z) for z in places.offered_zones())


@pytest.mark.parametrize("typed, choices, meant", [
    ("schedul", ["schedule", "skip"], "schedule"), ("weak", ["week", "month"], "week"),
    ("xyzzy", ["week", "month"], None), ("", ["week"], None),
])
def test_near_misses(typed, choices, meant):
    assert nearmiss.closest(typed, choices) == meant
