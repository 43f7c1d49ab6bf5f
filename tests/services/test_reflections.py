"""HOPE reflections (PRODUCT.md §4): private to their author, admins included; history;
shared as a lesson only by the author, named or anonymous, with the team or the org."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from bot.db.models import Entry, Kind, OutboxMessage, Reflection, StoredEntry, Visibility
from bot.ids import OutboxAction
from bot.services import reflections
from bot.services.reflections import ReflectionError
from tests.services.kit import CH, OTHER_WS, WS, count, queued, rows, unit

ANSWERS = ["The deploy broke checkout", "Rolled back; learned to canary",
           "The SRE runbook had it", "Canary every deploy"]


def reflect(db, author: str = "U_ANA", answers: list[str] = ANSWERS,
            team: str = WS) -> Reflection:
    with unit(db) as session:
        return reflections.save(session, team, author, reflections.prompts_for(session, team),
                                answers)


def share(db, reflection: Reflection, *, visibility: Visibility = Visibility.TEAM,
          anonymous: bool = False, text: str = "Canary every deploy") -> StoredEntry:
    with unit(db) as session:
        mine = reflections.own(session, reflection.team_id, reflection.author_id,
                               reflection.id)
        return reflections.share(session, mine, channel_id=CH, text=text,
                                 visibility=visibility, anonymous=anonymous)


def test_the_default_prompts_are_happened_outcome_people_evolve(db):
    with unit(db) as session:
        prompts = reflections.prompts_for(session, WS)
    assert [reflections.label(p) for p in prompts] == [
        "Happened", "Outcome", "People & prior knowledge", "Evolve"]
    assert "what will you do differently next time" in prompts[3]


def test_a_reflection_is_kept_as_typed_and_sends_nothing_anywhere(db):
    answers = ["  It *broke* <!here>\n", "", "", "Next time: canary"]
    reflect(db, answers=answers)
    [stored] = rows(db, Reflection)
    assert (stored.author_id, stored.answers) == ("U_ANA", answers)
    assert count(db, Entry) == 0 and count(db, OutboxMessage) == 0


@pytest.mark.parametrize("answers", [["", " ", "\n", ""], ["x" * 3001, "", "", ""]])
def test_an_empty_or_oversized_reflection_is_refused_and_nothing_is_stored(db, answers):
    with pytest.raises(ReflectionError):
        reflect(db, answers=answers)
    assert count(db, Reflection) == 0


def test_nobody_but_the_author_can_read_a_reflection_admins_included(db):
    mine = reflect(db, "U_ANA")
    with unit(db) as session:
        assert reflections.own(session, WS, "U_ANA", mine.id).answers == ANSWERS
        for reader in ("U_BEN", "U_ADMIN"):
            with pytest.raises(ReflectionError):
                reflections.own(session, WS, reader, mine.id)
            assert reflections.history(session, WS, reader).reflections == []
        with pytest.raises(ReflectionError):  # the same person id in another workspace
            reflections.own(session, OTHER_WS, "U_ANA", mine.id)


def test_history_lists_the_callers_own_reflections_newest_first(db):
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    made = []
    for day in range(3):
        with freeze_time(start + timedelta(days=day)):
            made.append(reflect(db, "U_ANA", [f"day {day}", "", "", ""]))
    reflect(db, "U_BEN")
    reflect(db, "U_ANA", team=OTHER_WS)
    with unit(db) as session:
        page = reflections.history(session, WS, "U_ANA")
    assert [r.id for r in page.reflections] == [r.id for r in reversed(made)]
    assert page.total == 3


@pytest.mark.parametrize(("visibility", "anonymous"), [
    (Visibility.TEAM, False), (Visibility.ORG, False),
    (Visibility.TEAM, True), (Visibility.ORG, True)])
def test_the_author_shares_a_reflection_as_a_lesson(db, visibility, anonymous):
    mine = reflect(db, "U_ANA")
    entry = share(db, mine, visibility=visibility, anonymous=anonymous,
                  text="Trimmed: canary every deploy")
    [lesson] = rows(db, Entry)
    assert (lesson.id, lesson.kind, lesson.visibility, lesson.anonymous, lesson.text,
            lesson.channel_id) == (entry.id, Kind.LESSON, visibility, anonymous,
                                   "Trimmed: canary every deploy", CH)
    assert lesson.author_id == "U_ANA"  # kept for its author (applause, forget-me)
    assert [row.entry_id for row in queued(db, OutboxAction.POST_ENTRY)] == [entry.id]
    with unit(db) as session:
        assert reflections.shared_entry(session, session.get(Reflection, mine.id)).id == entry.id
    # The reflection itself stays private: still nobody else can read it.
    with unit(db) as session, pytest.raises(ReflectionError):
        reflections.own(session, WS, "U_BEN", mine.id)


def test_a_reflection_is_shared_once_and_never_privately(db):
    mine = reflect(db)
    with pytest.raises(ReflectionError):
        share(db, mine, visibility=Visibility.PRIVATE)
    assert count(db, Entry) == 0
    share(db, mine)
    with pytest.raises(ReflectionError):
        share(db, mine)
    assert count(db, Entry) == 1
    assert len(queued(db, OutboxAction.POST_ENTRY)) == 1
