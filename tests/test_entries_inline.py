"""/debrief win|opportunity|lesson TEXT, through signed HTTP, against a fake Slack."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.db.models import Entry


def entries(db) -> list[Entry]:
    with db.session() as session:
        return list(session.scalars(select(Entry).order_by(Entry.id)))


def test_win_is_stored_posted_and_confirmed(bot, fake_slack, db):
    answer = bot.slack.command("win shipped the release #launch #Team")

    assert answer.status == 200
    assert "Saved your win" in answer.text
    assert "/debrief delete 1" in answer.text
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post.body["channel"] == "C_TEAM"
    assert "shipped the release" in post.blocks_text()
    assert "<@U_ALICE>" in post.blocks_text()
    [entry] = entries(db)
    assert (entry.kind, entry.text, entry.author_id, entry.visibility) == (
        "win", "shipped the release #launch #Team", "U_ALICE", "team")
    with db.session() as session:
        assert session.get(Entry, entry.id).tag_names == ["launch", "team"]


@pytest.mark.parametrize(("typed", "kind"), [
    ("opportunity we could automate the deploy", "opportunity"),
    ("opp we could automate the deploy", "opportunity"),
    ("lesson we could automate the deploy", "lesson"),
    ("Lesson we could automate the deploy", "lesson"),
])
def test_each_kind_and_the_opp_alias(bot, fake_slack, db, typed, kind):
    assert "Saved your" in bot.slack.command(typed).text
    [entry] = entries(db)
    assert entry.kind == kind
    assert entry.text == "we could automate the deploy"


def test_the_message_records_where_applause_will_land(bot, fake_slack, db):
    bot.slack.command("win it works")
    post = fake_slack.wait_for("chat.postMessage")[0]
    bot.settle()  # the ts is written right after Slack answers; let it finish
    [entry] = entries(db)
    assert (entry.message_channel_id, entry.message_ts) == ("C_TEAM", post.response["ts"])


@pytest.mark.parametrize("typed", ["win", "win   ", "lesson"])
def test_empty_text_is_refused_and_nothing_is_stored(bot, fake_slack, db, typed):
    answer = bot.slack.command(typed)
    assert answer.status == 200
    assert "nothing to log" in answer.text
    assert entries(db) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_3000_characters_are_accepted(bot, fake_slack, db):
    text = "x" * 3000
    assert "Saved your lesson" in bot.slack.command("lesson " + text).text
    assert entries(db)[0].text == text


def test_3001_characters_are_refused_with_the_text_handed_back(bot, fake_slack, db):
    text = "y" * 3001
    answer = bot.slack.command("lesson " + text)
    assert "3,001 characters" in answer.text
    assert "Nothing was saved" in answer.text
    assert text in answer.text  # nothing the person wrote is lost
    assert entries(db) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def escaped(typed: str) -> str:
    """What Slack sends for literal text with should_escape on (manifest.yml)."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_text_cannot_ping_mention_or_forge_links(bot, fake_slack, db):
    # Typed: "@channel @here thanks @boss, see <https://evil.example|docs> <!everyone>";
    # Slack turns the real mentions into markup and escapes the literal brackets.
    sent_by_slack = ("<!channel> <!here> thanks <@U0BOSS|boss>, see "
                     + escaped("<https://evil.example|docs> <!everyone>"))
    bot.slack.command("win " + sent_by_slack)
    post = fake_slack.wait_for("chat.postMessage")[0]
    sent = json.dumps(post.body)
    for active in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS", "<https://evil"):
        assert active not in sent
    assert "@here" not in sent and "@channel" not in sent  # bare ones are broken up too
    assert "&lt;https://evil.example|docs&gt;" in post.blocks_text()
    assert post.body.get("link_names") in (None, False, "0", "false")
    assert entries(db)[0].text == (
        "@channel @here thanks @boss, see <https://evil.example|docs> <!everyone>")


def test_text_is_stored_exactly_as_typed(bot, db):
    typed = "spacing  kept, *stars*, `code`, émoji 🎉 & <angle> &amp; #Tag"
    bot.slack.command("win " + escaped(typed))
    [entry] = entries(db)
    assert entry.text == typed
    assert entry.tag_names == ["tag"]


def test_links_and_channels_are_stored_as_they_were_typed(bot, db):
    bot.slack.command("lesson read <https://docs.example/runbook|docs.example/runbook> "
                      "in <#C0OPS|ops> before paging <!subteam^S1|@oncall>")
    assert entries(db)[0].text == "read docs.example/runbook in #ops before paging @oncall"


def test_another_workspace_is_refused_in_single_workspace_mode(bot, fake_slack, db):
    """SLACK_BOT_TOKEN belongs to one workspace: a request from another (the app is
    installed there too) is refused, never answered with this workspace's token."""
    bot.slack.command("win ours")
    # Once Slack has said whose token it is (asked off the request path at start; until it
    # answers, what people write is kept and the outbox sends nothing that is not ours).
    bot.runtime.clients.for_team("T0001")
    answer = bot.slack.command("win theirs", team="T_OTHER", user="U_BOB")
    assert "Saved" not in answer.text
    [told] = fake_slack.wait_for("response_url")
    assert "not installed in this workspace" in told.body["text"]
    assert "nothing was saved" in told.body["text"]
    bot.settle()
    with db.session() as session:
        teams = dict(session.execute(select(Entry.text, Entry.team_id)).all())
    assert teams == {"ours": "T0001"}
    assert ["ours" in c.blocks_text() for c in fake_slack.calls_to("chat.postMessage")] == [True]


def test_concurrent_commands_never_see_a_locked_database(bot, fake_slack, db):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda n: bot.slack.command(f"win number {n}", channel=f"C{n:03d}"), range(40)))
    assert all(a.status == 200 and "Saved your win" in a.text for a in answers)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 40
    fake_slack.wait_for("chat.postMessage", 40)
