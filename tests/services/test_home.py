"""The App Home (PRODUCT.md §6, §7): the person's own entries and reflections, applause
received and given, the team's latest learnings they may read, their next turns."""

from __future__ import annotations

from datetime import UTC, datetime

from freezegun import freeze_time

from bot.db.models import Kind, Visibility
from bot.services import home, reflections, rotation, schedule
from bot.services.schedule import Schedule
from tests.services.kit import CH, CH2, CH3, OTHER_WS, WS, log, posted, react, unit

NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)  # a Monday


def home_of(db, user: str, channels: tuple[str, ...] = (CH,), team: str = WS) -> home.Home:
    with unit(db) as session:
        return home.home_for(session, team, user, list(channels))


def test_the_home_shows_the_persons_own_entries_private_ones_too(db):
    mine = {log(db, "U_ANA", "team").id,
            log(db, "U_ANA", "private", visibility=Visibility.PRIVATE).id,
            log(db, "U_ANA", "anonymous", anonymous=True).id}
    log(db, "U_BEN", "Ben's")
    log(db, "U_ANA", "in another workspace", team=OTHER_WS)
    shown = home_of(db, "U_ANA").own_entries
    assert {line.id for line in shown} == mine
    assert all(line.author_id == "U_ANA" for line in shown)


def test_the_home_shows_the_persons_own_reflections_and_nobody_elses(db):
    with unit(db) as session:
        reflections.save(session, WS, "U_ANA", list(reflections.DEFAULT_PROMPTS),
                         ["Ana's reflection", "", "", ""])
        reflections.save(session, WS, "U_BEN", list(reflections.DEFAULT_PROMPTS),
                         ["Ben's reflection", "", "", ""])
    anas, bens = home_of(db, "U_ANA"), home_of(db, "U_ZED")
    assert [line.preview for line in anas.reflections] == ["Ana's reflection"]
    assert bens.reflections == [] and bens.reflections_total == 0


def test_the_home_counts_applause_received_and_given(db):
    anas = posted(db, log(db, "U_ANA", "Ana's", kind=Kind.WIN))
    secret = posted(db, log(db, "U_ANA", "Ana's anonymous", anonymous=True))
    bens = posted(db, log(db, "U_BEN", "Ben's", kind=Kind.WIN))
    react(db, "U_BEN", anas)
    react(db, "U_CAM", secret)
    react(db, "U_ANA", bens)
    react(db, "U_ANA", bens, "clap")
    mine = home_of(db, "U_ANA")
    assert (mine.received, mine.given) == (2, 2)  # the anonymous entry's is hers alone
    assert (home_of(db, "U_CAM").received, home_of(db, "U_BEN").received) == (0, 2)


def test_team_learnings_come_from_the_persons_channels_and_the_org_never_private(db):
    readable = {
        log(db, "U_BEN", "team, a channel she is in", channel=CH).id,
        log(db, "U_BEN", "org, from anywhere", channel=CH3, visibility=Visibility.ORG).id,
    }
    log(db, "U_BEN", "team, a channel she is not in", channel=CH3)
    log(db, "U_BEN", "private", channel=CH, visibility=Visibility.PRIVATE)
    log(db, "U_BEN", "another workspace", team=OTHER_WS, visibility=Visibility.ORG)
    assert {line.id for line in home_of(db, "U_ANA", (CH, CH2)).team_learnings} == readable


def test_an_anonymous_learning_never_names_its_author_on_someone_elses_home(db):
    log(db, "U_BEN", "anonymous lesson", anonymous=True)
    [line] = home_of(db, "U_ANA").team_learnings
    assert line.text == "anonymous lesson" and line.author_id is None
    [own] = home_of(db, "U_BEN").own_entries
    assert own.author_id == "U_BEN"  # its author still sees it is theirs


def test_the_home_shows_the_persons_next_rotation_turns(db):
    with freeze_time(NOW), unit(db) as session:
        rotation.add(session, WS, CH, "U_ANA", ["U_ANA"])
        session.flush()
        rotation.apply_schedule(session, WS, CH, "U_ANA",
                                Schedule(schedule.parse_days("mon,thu"), "09:30",
                                         "Europe/Berlin", 10))
    with freeze_time(NOW):
        turns = home_of(db, "U_ANA").turns
        assert home_of(db, "U_BEN").turns == []
    assert [(t.channel_id, t.starts_at) for t in turns][:2] == [
        (CH, datetime(2026, 6, 15, 7, 30, tzinfo=UTC)),
        (CH, datetime(2026, 6, 18, 7, 30, tzinfo=UTC))]
