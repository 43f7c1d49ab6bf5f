"""The App Home: app_home_opened publishes the person's Home after the ack."""

from __future__ import annotations

import json

from bot.db.models import Applause, Entry
from tests.kit.fake_slack import TEAM_ID
from tests.kit.slack_requests import reaction


def add_entry(db, author, text, *, channel="C_TEAM", visibility="team", anonymous=False,
              ts=None) -> Entry:
    with db.session() as session:
        row = Entry(team_id=TEAM_ID, channel_id=channel, author_id=author, kind="lesson",
                    text=text, visibility=visibility, anonymous=anonymous,
                    message_channel_id=channel if ts else None, message_ts=ts)
        session.add(row)
        session.commit()
        return row


def open_home(bot, fake_slack, user="U_ALICE", event_id=None) -> dict:
    before = len(fake_slack.calls_to("views.publish"))
    answer = bot.slack.event({"type": "app_home_opened", "user": user, "channel": "D123",
                              "tab": "home", "event_ts": "1700000000.000100"},
                             event_id=event_id)
    assert answer.status == 200
    call = fake_slack.wait_for("views.publish", before + 1)[-1]
    assert call.body["user_id"] == user
    return call.body["view"]


def text_of(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_home_shows_own_entries_applause_team_learnings_and_rotation(bot, fake_slack, db):
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_OPS", "C_MORE"]
    add_entry(db, "U_ALICE", "my private note", visibility="private")
    mine = add_entry(db, "U_ALICE", "my team lesson", ts="1700000001.000100")
    add_entry(db, "U_BOB", "bob in my channel")
    add_entry(db, "U_CAROL", "carol in ops", channel="C_OPS")
    add_entry(db, "U_DAN", "dan elsewhere, team only", channel="C_SECRET")
    add_entry(db, "U_ERIN", "erin elsewhere, for the org", channel="C_SECRET",
              visibility="org")
    add_entry(db, "U_FRANK", "frank's private thoughts", visibility="private")
    add_entry(db, "U_GRACE", "grace, anonymously", anonymous=True)
    bot.slack.event(reaction("reaction_added", user="U_BOB", channel="C_TEAM",
                             ts=mine.message_ts))

    view = open_home(bot, fake_slack)
    text = text_of(view)
    assert view["type"] == "home"
    assert "my private note" in text and "my team lesson" in text
    assert "received *1*, given *0*" in text
    for shown in ("bob in my channel", "carol in ops", "erin elsewhere, for the org",
                  "grace, anonymously"):
        assert shown in text
    for hidden in ("dan elsewhere", "frank's private", "U_GRACE"):
        assert hidden not in text
    assert "Next rotation turns" in text
    conversations = fake_slack.calls_to("users.conversations")
    assert len(conversations) == 2  # followed Slack's pagination
    assert conversations[0].body["user"] == "U_ALICE"


def test_the_anonymous_author_sees_their_own_entry_and_its_applause(bot, fake_slack, db):
    secret = add_entry(db, "U_GRACE", "grace, anonymously", anonymous=True,
                       ts="1700000002.000100")
    bot.slack.event(reaction("reaction_added", user="U_BOB", channel="C_TEAM",
                             ts=secret.message_ts))
    text = text_of(open_home(bot, fake_slack, user="U_GRACE"))
    assert "grace, anonymously" in text and "received *1*" in text
    bob = text_of(open_home(bot, fake_slack, user="U_BOB"))
    assert "given *1*" in bob and "U_GRACE" not in bob


def test_home_stays_within_100_blocks_however_much_there_is(bot, fake_slack, db):
    fake_slack.memberships["U_ALICE"] = ["C_TEAM"]
    with db.session() as session:
        for n in range(300):
            session.add(Entry(team_id=TEAM_ID, channel_id="C_TEAM",
                              author_id="U_ALICE" if n % 2 else "U_BOB", kind="win",
                              text=f"entry {n} " + "x" * 2900, visibility="team"))
        for n in range(500):
            session.add(Applause(team_id=TEAM_ID, channel_id="C_TEAM", message_ts=f"{n}.1",
                                 reactor_id=f"U{n}", emoji="tada", author_id="U_ALICE"))
        session.commit()
    view = open_home(bot, fake_slack)
    assert len(view["blocks"]) <= 100
    assert "received *500*" in text_of(view)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])
    assert fake_slack.succeeded("views.publish")


def test_home_is_published_after_the_ack(bot, fake_slack, db):
    gate = fake_slack.hold("views.publish")
    answer = bot.slack.event({"type": "app_home_opened", "user": "U_ALICE", "channel": "D1",
                              "tab": "home", "event_ts": "1.1"})
    assert answer.status == 200  # answered while Slack still holds views.publish
    gate.set()
    fake_slack.wait_for("views.publish")
    bot.settle()
    assert [c.ok for c in fake_slack.calls_to("views.publish")] == [True]


def test_home_publishing_is_retried_when_slack_fails(bot, fake_slack, db):
    fake_slack.fail("views.publish", status=500)
    fake_slack.fail("users.conversations", status=429, retry_after=1)
    bot.slack.event({"type": "app_home_opened", "user": "U_ALICE", "channel": "D1",
                     "tab": "home", "event_ts": "1.1"})
    fake_slack.wait_for("views.publish", 2)
    bot.settle()
    assert [c.ok for c in fake_slack.calls_to("views.publish")] == [False, True]


def test_the_messages_tab_publishes_nothing(bot, fake_slack, db):
    answer = bot.slack.event({"type": "app_home_opened", "user": "U_ALICE", "channel": "D1",
                              "tab": "messages", "event_ts": "1.1"})
    assert answer.status == 200
    bot.settle()
    assert fake_slack.calls_to("views.publish") == []


def test_opening_home_twice_quickly_publishes_once_per_pending_row(bot, fake_slack, db):
    bot.runtime.worker.stop()  # Slack is slow: nothing sent yet
    for _ in range(3):
        bot.slack.event({"type": "app_home_opened", "user": "U_ALICE", "channel": "D1",
                         "tab": "home", "event_ts": "1.1"})
    bot.runtime.worker.start()
    fake_slack.wait_for("views.publish")
    bot.settle()
    assert len(fake_slack.calls_to("views.publish")) == 1


def test_manifest_enables_the_home_tab_and_every_subscribed_event_is_handled(bot):
    import yaml

    from tests.test_running import ROOT

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == ["app_home_opened", "app_uninstalled", "reaction_added",
                              "reaction_removed", "tokens_revoked"]
    for event in events:
        # A subscribed event no listener matches would get a 404, and Slack would retry.
        answer = bot.slack.event({"type": event, "user": "U_X", "event_ts": "1.1",
                                  "item": {"type": "message", "channel": "C1", "ts": "1.1"},
                                  "reaction": "tada", "tab": "messages"})
        assert answer.status == 200, event


def test_without_channel_scopes_home_still_shows_org_learnings(bot, fake_slack, db):
    fake_slack.fail("users.conversations", error="missing_scope")
    add_entry(db, "U_ERIN", "erin for the org", channel="C_SECRET", visibility="org")
    add_entry(db, "U_BOB", "bob team only")
    text = text_of(open_home(bot, fake_slack))
    assert "erin for the org" in text and "bob team only" not in text


def test_home_shows_the_persons_next_rotation_turn(bot, fake_slack, db):
    bot.slack.command("rotation add <@U_ALICE|alice>", channel="C_TEAM")
    bot.slack.command("rotation schedule mon,tue,wed,thu,fri,sat,sun 09:30 UTC lead 10",
                      channel="C_TEAM")
    bot.slack.event({"type": "app_home_opened", "user": "U_ALICE", "channel": "D_ALICE",
                     "tab": "home", "event_ts": "1700000000.000100"})
    publish = fake_slack.wait_for("views.publish")[0]
    home = json.dumps(publish.body["view"])
    assert "Next rotation turns" in home
    assert "<#C_TEAM>" in home
    assert "No turns coming up" not in home


def test_reflections_show_on_their_authors_home_only(bot, fake_slack, db):
    from tests.test_hope import reflect

    reflect(bot, fake_slack, {"hope_answer_1": "I panicked in the incident call"})
    for user in ("U_ALICE", "U_BOB"):
        bot.slack.event({"type": "app_home_opened", "user": user, "channel": f"D_{user}",
                         "tab": "home", "event_ts": "1700000000.000100"})
    publishes = fake_slack.wait_for("views.publish", 2)
    homes = {call.body["user_id"]: json.dumps(call.body["view"]) for call in publishes}
    assert "I panicked in the incident call" in homes["U_ALICE"]
    assert "I panicked" not in homes["U_BOB"]
    assert "None yet" in homes["U_BOB"]
