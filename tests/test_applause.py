"""Applause: emoji reactions on a message that carries an entry, through signed events."""

from __future__ import annotations

import threading

from sqlalchemy import select

from bot.db.models import Applause, Entry, ProcessedEvent, WorkspaceSettings
from tests.kit.fake_slack import BOT_USER_ID, TEAM_ID
from tests.kit.slack_requests import reaction


def posted_entry(bot, fake_slack, db, text="win shipped the release", user="U_ALICE",
                 channel="C_TEAM") -> Entry:
    """Log an entry with /debrief and wait until its channel message is recorded."""
    before = len(fake_slack.calls_to("chat.postMessage"))
    assert "Saved your" in bot.slack.command(text, user=user, channel=channel).text
    fake_slack.wait_for("chat.postMessage", before + 1)
    bot.settle()  # let the pass that posted it record the message ts
    with db.session() as session:
        entry = session.scalars(select(Entry).order_by(Entry.id.desc())).first()
    assert entry.message_ts
    return entry


def applause(db) -> list[Applause]:
    with db.session() as session:
        return list(session.scalars(select(Applause).order_by(Applause.id)))


def react(bot, entry, user, emoji="tada", kind="reaction_added", **kwargs):
    return bot.slack.event(reaction(kind, user=user, channel=entry.message_channel_id,
                                    ts=entry.message_ts, emoji=emoji), **kwargs)


def at_once(count: int, deliver) -> list:
    """Run deliver(n) for n in range(count) in threads released together; their results."""
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        start.wait()
        results[n] = deliver(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_reaction_on_an_entry_is_applause_for_its_author_not_item_user(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    answer = react(bot, entry, "U_BOB")  # Slack says item_user = the bot
    assert answer.status == 200
    [row] = applause(db)
    assert (row.author_id, row.reactor_id, row.emoji, row.entry_id) == (
        "U_ALICE", "U_BOB", "tada", entry.id)
    assert row.author_id != BOT_USER_ID


def test_missing_item_user_changes_nothing_about_the_author(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    event = reaction("reaction_added", user="U_BOB", channel=entry.message_channel_id,
                     ts=entry.message_ts, item_user=None)
    assert bot.slack.event(event).status == 200
    assert [r.author_id for r in applause(db)] == ["U_ALICE"]


def test_the_same_event_five_times_at_once_counts_once(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    event = reaction("reaction_added", user="U_BOB", channel=entry.message_channel_id,
                     ts=entry.message_ts)
    statuses = at_once(5, lambda n: bot.slack.event(event, event_id="EvSAME0001",
                                                    retry_num=n or None).status)
    assert statuses == [200] * 5
    assert len(applause(db)) == 1
    with db.session() as session:
        assert len(session.scalars(select(ProcessedEvent)).all()) == 1


def test_five_different_deliveries_of_one_reaction_at_once_count_once(bot, fake_slack, db):
    # Distinct event ids (e.g. two processes, or Slack resending under a new id): the
    # table's unique key still keeps it to one.
    entry = posted_entry(bot, fake_slack, db)
    statuses = at_once(5, lambda _n: react(bot, entry, "U_BOB").status)
    assert statuses == [200] * 5
    assert len(applause(db)) == 1


def test_a_retry_whose_first_delivery_never_arrived_still_counts(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    assert react(bot, entry, "U_BOB", event_id="EvLOST0001", retry_num=1).status == 200
    assert react(bot, entry, "U_BOB", event_id="EvLOST0001", retry_num=2).status == 200
    assert len(applause(db)) == 1


def test_a_self_reaction_counts_zero(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    assert react(bot, entry, "U_ALICE").status == 200
    assert react(bot, entry, "U_ALICE", emoji="clap").status == 200
    assert applause(db) == []


def test_un_react_takes_it_back(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    react(bot, entry, "U_BOB", emoji="tada")
    react(bot, entry, "U_BOB", emoji="clap")
    react(bot, entry, "U_CAROL", emoji="tada")
    assert len(applause(db)) == 3
    assert react(bot, entry, "U_BOB", emoji="tada", kind="reaction_removed").status == 200
    assert sorted((r.reactor_id, r.emoji) for r in applause(db)) == [
        ("U_BOB", "clap"), ("U_CAROL", "tada")]
    # Removing what was never counted (or twice) is harmless.
    assert react(bot, entry, "U_BOB", emoji="tada", kind="reaction_removed").status == 200
    assert len(applause(db)) == 2


def test_reactions_on_any_other_message_get_2xx_and_change_nothing(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    unrelated = reaction("reaction_added", user="U_BOB", channel="C_TEAM",
                         ts="1600000000.000100", item_user="U_CAROL")
    assert bot.slack.event(unrelated).status == 200
    other_channel = reaction("reaction_added", user="U_BOB", channel="C_OTHER",
                             ts=entry.message_ts)
    assert bot.slack.event(other_channel).status == 200
    on_a_file = {"type": "reaction_added", "user": "U_BOB", "reaction": "tada",
                 "item": {"type": "file", "file": "F123"}, "event_ts": "1.2"}
    assert bot.slack.event(on_a_file).status == 200
    removed = reaction("reaction_removed", user="U_BOB", channel="C_TEAM",
                       ts="1600000000.000100")
    assert bot.slack.event(removed).status == 200
    assert applause(db) == []


def test_another_workspace_cannot_applaud_our_entries(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    event = reaction("reaction_added", user="U_BOB", channel=entry.message_channel_id,
                     ts=entry.message_ts)
    assert bot.slack.event(event, team="T_OTHER").status == 200
    assert applause(db) == []


def test_an_admin_can_narrow_the_emoji_that_count(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    with db.session() as session:
        session.add(WorkspaceSettings(team_id=TEAM_ID, applause_emoji=["tada", "+1"]))
        session.commit()
    react(bot, entry, "U_BOB", emoji="eyes")
    react(bot, entry, "U_BOB", emoji="tada")
    react(bot, entry, "U_CAROL", emoji="+1::skin-tone-3")
    assert sorted(r.emoji for r in applause(db)) == ["+1::skin-tone-3", "tada"]


def test_every_emoji_counts_by_default(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    for emoji in ("eyes", "tada", "custom-party-parrot"):
        react(bot, entry, "U_BOB", emoji=emoji)
    assert len(applause(db)) == 3


def test_applause_on_an_anonymous_entry_counts_for_its_author_and_is_marked(bot, db):
    with db.session() as session:
        session.add(Entry(team_id=TEAM_ID, channel_id="C_TEAM", author_id="U_ALICE",
                          kind="lesson", text="I broke prod", visibility="team",
                          anonymous=True, message_channel_id="C_TEAM",
                          message_ts="1700000099.000100"))
        session.commit()
    event = reaction("reaction_added", user="U_BOB", channel="C_TEAM", ts="1700000099.000100")
    assert bot.slack.event(event).status == 200
    [row] = applause(db)
    assert (row.author_id, row.anonymous) == ("U_ALICE", True)


def test_the_emoji_filter_matches_whole_names_only(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    with db.session() as session:
        session.add(WorkspaceSettings(team_id=TEAM_ID, applause_emoji=["raised_hands", "+1"]))
        session.commit()
    for emoji in ("raisedxhands", "raised", "hands", "1", "raised_hands_2", "raised_hands"):
        react(bot, entry, "U_BOB", emoji=emoji)
    assert [r.emoji for r in applause(db)] == ["raised_hands"]


def test_an_empty_choice_counts_every_emoji(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    with db.session() as session:
        session.add(WorkspaceSettings(team_id=TEAM_ID, applause_emoji=None))
        session.commit()
    react(bot, entry, "U_BOB", emoji="eyes")
    assert len(applause(db)) == 1


def test_deleting_an_entry_takes_its_applause_with_it(bot, fake_slack, db):
    kept = posted_entry(bot, fake_slack, db, text="win kept")
    gone = posted_entry(bot, fake_slack, db, text="win gone")
    react(bot, kept, "U_BOB")
    react(bot, gone, "U_BOB")
    assert "Deleted entry" in bot.slack.command(f"delete {gone.id}").text
    assert [r.entry_id for r in applause(db)] == [kept.id]


def at(kind, entry, user, event_ts, emoji="tada"):
    event = reaction(kind, user=user, channel=entry.message_channel_id, ts=entry.message_ts,
                     emoji=emoji)
    return {**event, "event_ts": event_ts}


def test_a_late_retry_of_a_reaction_taken_back_since_does_not_count(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    # The reaction's first delivery failed; the person un-reacted; then Slack's retry came.
    bot.slack.event(at("reaction_removed", entry, "U_BOB", "1700000200.000100"))
    assert bot.slack.event(at("reaction_added", entry, "U_BOB", "1700000100.000100"),
                           event_id="EvLATE0001", retry_num=1).status == 200
    assert applause(db) == []
    # Reacting again later counts again.
    bot.slack.event(at("reaction_added", entry, "U_BOB", "1700000300.000100"))
    assert len(applause(db)) == 1


def test_a_removal_overtaken_by_a_newer_reaction_leaves_the_applause(bot, fake_slack, db):
    entry = posted_entry(bot, fake_slack, db)
    bot.slack.event(at("reaction_added", entry, "U_BOB", "1700000100.000100"))
    bot.slack.event(at("reaction_added", entry, "U_BOB", "1700000300.000100"))  # re-react
    bot.slack.event(at("reaction_removed", entry, "U_BOB", "1700000200.000100"))  # late
    assert [r.reacted_ts for r in applause(db)] == ["1700000300.000100"]


def test_removals_on_other_messages_are_not_remembered(bot, fake_slack, db):
    from bot.db.models import ApplauseRemoval

    bot.slack.event(reaction("reaction_removed", user="U_BOB", channel="C_TEAM",
                             ts="1600000000.000100"))
    with db.session() as session:
        assert session.scalars(select(ApplauseRemoval)).all() == []


def test_removals_are_forgotten_after_a_day(db):
    from datetime import timedelta
    from types import SimpleNamespace

    from bot.clock import forget_old_events
    from bot.db.models import ApplauseRemoval, utcnow

    key = {"team_id": TEAM_ID, "channel_id": "C1", "reactor_id": "U_BOB", "emoji": "tada"}
    with db.session() as session:
        session.add(ApplauseRemoval(**key, message_ts="1.1", removed_ts="1",
                                    received_at=utcnow() - timedelta(days=2)))
        session.add(ApplauseRemoval(**key, message_ts="2.2", removed_ts="2"))
        session.commit()
    assert forget_old_events(SimpleNamespace(db=db)) == 1
    with db.session() as session:
        assert session.scalars(select(ApplauseRemoval.message_ts)).all() == ["2.2"]
