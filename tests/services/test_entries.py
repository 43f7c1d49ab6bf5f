"""Entries (PRODUCT.md §2): logging, tags, related lessons, deleting, at the service level."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Applause, Entry, Kind, OutboxMessage, Visibility
from bot.ids import OutboxAction
from bot.services import entries, search
from bot.services.entries import EntryError, NewEntry
from bot.views.search import related_lessons
from tests.services.kit import CH, CH3, OTHER_WS, WS, count, log, posted, queued, react, rows, unit


@pytest.mark.parametrize("visibility", [Visibility.TEAM, Visibility.ORG])
def test_an_entry_others_may_see_is_stored_as_typed_and_its_post_is_queued_with_it(
        db, visibility):
    typed = "  Shipped it <!channel> & <@U_BOSS>, see <https://x.test|here> :tada:\n"
    entry = log(db, "U_ANA", typed, kind=Kind.WIN, visibility=visibility)
    [stored] = rows(db, Entry)
    assert (stored.team_id, stored.channel_id, stored.author_id, stored.kind,
            stored.visibility, stored.text) == (WS, CH, "U_ANA", "win", visibility, typed)
    [post] = queued(db, OutboxAction.POST_ENTRY)
    assert (post.entry_id, post.channel_id, post.status) == (entry.id, CH, "pending")


def test_a_private_entry_is_never_queued_for_posting(db):
    log(db, "U_ANA", "Only for me: I panicked", visibility=Visibility.PRIVATE)
    assert count(db, Entry) == 1
    assert queued(db, OutboxAction.POST_ENTRY) == []
    # Nothing queued for Slack names the channel or anyone but the author.
    assert all(row.user_id == "U_ANA" for row in queued(db))


def test_logging_from_the_modal_confirms_to_the_author(db):
    entry = log(db, "U_ANA", "Paired on the migration", kind=Kind.WIN, confirm=True)
    [confirmation] = queued(db, OutboxAction.CONFIRM_ENTRY)
    assert (confirmation.entry_id, confirmation.user_id) == (entry.id, "U_ANA")


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "x" * 3001])
def test_empty_or_too_long_text_is_refused_and_stores_nothing(db, text):
    with unit(db) as session, pytest.raises(EntryError) as refused:
        entries.log_entry(session, NewEntry(team_id=WS, channel_id=CH, author_id="U_ANA",
                                            kind=Kind.LESSON, text=text))
    assert str(refused.value)  # a message the person can read
    assert count(db, Entry) == 0 and count(db, OutboxMessage) == 0


def test_text_of_exactly_3000_characters_is_kept(db):
    text = ("lesson " * 500)[:3000]
    log(db, "U_ANA", text)
    assert [e.text for e in rows(db, Entry)] == [text]


def test_hash_words_become_tags_that_search_finds(db):
    entry = log(db, "U_ANA", "Roll back first, debug later #Release #ops-review. Not a tag: C#")
    assert {tag.lower() for tag in entry.tag_names} == {"release", "ops-review"}
    with unit(db) as session:
        found = search.search(session, search.Viewer(WS, "U_BEN", CH), "#release")
    assert [e.id for e in found] == [entry.id]


@pytest.mark.parametrize("kind", [Kind.OPPORTUNITY, Kind.LESSON])
def test_an_opportunity_or_a_lesson_asks_have_we_learned_this_before(db, kind):
    entry = log(db, "U_ANA", "Deploys on Friday keep biting us", kind=kind)
    [asked] = queued(db, OutboxAction.RELATED_LESSONS)
    assert (asked.entry_id, asked.user_id) == (entry.id, "U_ANA")


def related_to(db, entry: Entry) -> list[Entry]:
    with unit(db) as session:
        return search.related(session, session.get_one(Entry, entry.id))


def test_related_lessons_come_only_from_what_the_author_may_see(db):
    seen = [
        log(db, "U_BEN", "Database migration rollback failed on deploy", channel=CH),
        log(db, "U_CAM", "Migration rollback needs a dry run", channel=CH3,
            visibility=Visibility.ORG),
    ]
    log(db, "U_BEN", "My private migration rollback mess", visibility=Visibility.PRIVATE)
    log(db, "U_DAN", "Migration rollback in a channel Ana never used", channel=CH3)
    log(db, "U_BEN", "Migration rollback elsewhere", team=OTHER_WS)
    entry = log(db, "U_ANA", "The migration rollback took the database down")
    log(db, "U_BEN", "A later migration rollback, logged after hers")
    assert sorted(e.id for e in related_to(db, entry)) == sorted(e.id for e in seen)


def test_at_most_three_related_lessons_are_shown(db):
    for n in range(5):
        log(db, "U_BEN", f"Flaky integration tests, take {n}")
    entry = log(db, "U_ANA", "Flaky integration tests again", kind=Kind.OPPORTUNITY)
    assert len(related_to(db, entry)) == 3


def test_a_related_anonymous_lesson_never_names_its_author(db):
    log(db, "U_BEN", "Forgot the feature flag before the rollout", anonymous=True)
    entry = log(db, "U_ANA", "The rollout went out without its feature flag")
    found = related_to(db, entry)
    assert [e.author_id for e in found] == ["U_BEN"]  # found, for the author to read
    shown = related_lessons(found, "U_ANA")
    assert "Forgot the feature flag" in shown and "U_BEN" not in shown


def test_an_author_deletes_their_own_entry_its_message_and_its_applause(db):
    entry = log(db, "U_ANA", "Caught the bug in review", kind=Kind.WIN)
    ts = posted(db, entry)
    react(db, "U_BEN", ts)
    assert count(db, Applause) == 1
    with unit(db) as session:
        entries.delete_entry(session, WS, "U_ANA", entry.id)
    assert count(db, Entry) == 0 and count(db, Applause) == 0
    [take_down] = queued(db, OutboxAction.DELETE_MESSAGE)
    assert (take_down.channel_id, take_down.target_ts) == (CH, ts)


def test_deleting_someone_elses_entry_answers_as_for_a_missing_one_and_changes_nothing(db):
    bens = log(db, "U_BEN", "Ben's lesson")
    posted(db, bens)
    elsewhere = log(db, "U_ANA", "Ana's lesson in another workspace", team=OTHER_WS)
    answers = []
    for entry_id in (bens.id, elsewhere.id, 999_999):
        with unit(db) as session, pytest.raises(EntryError) as refused:
            entries.delete_entry(session, WS, "U_ANA", entry_id)
        answers.append(str(refused.value).replace(str(entry_id), "ID"))
    assert answers[0] == answers[1] == answers[2]
    assert count(db, Entry) == 2
    assert queued(db, OutboxAction.DELETE_MESSAGE) == []


def test_an_entry_and_the_calls_it_owes_commit_together_or_not_at_all(db):
    with db.session() as session:
        session.connection()  # the unit of work began: the entry joins its transaction
        entries.log_entry(session, NewEntry(team_id=WS, channel_id=CH, author_id="U_ANA",
                                            kind=Kind.LESSON, text="Rolled back"))
        session.rollback()  # e.g. a later step of the request failed
    assert count(db, Entry) == 0 and count(db, OutboxMessage) == 0
    with db.session() as session:
        session.connection()
        entry = entries.log_entry(session, NewEntry(team_id=WS, channel_id=CH,
                                                    author_id="U_ANA", kind=Kind.LESSON,
                                                    text="Kept"))
        session.commit()
    with db.session() as session:
        owed = session.scalars(select(OutboxMessage.action)
                               .where(OutboxMessage.entry_id == entry.id)).all()
    assert OutboxAction.POST_ENTRY in owed
