"""Looking back (PRODUCT.md §2 and §3): related lessons name up to three people who learned
something close, from named team- or org-visible entries the person may read (never an
anonymous or private one), with a button to a DM, the other channels where it came up,
and the docs the entries link to; search shows docs too; `/debrief ask TEXT` is the same
look back on demand, answered after the ack to the caller alone, storing nothing."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.db.models import Base
from bot.services.lookback import links
from tests.kit.slack_requests import fill
from tests.test_search import add, search

RUNBOOK = "https://wiki.example.com/runbooks/db-migrations?step=2&v=1"
POSTMORTEM = "https://docs.example.com/pm/2026-10-outage"


def seed(db) -> None:
    """What the workspace learned about migrations, by whom and where."""
    add(db, f"Migrations need a dry run on a staging copy, see {RUNBOOK}.", author="U_BOB",
        channel="C_DATA", age=30)
    add(db, "A migration locked the orders table for ten minutes", author="U_CAROL",
        visibility="org", channel="C_FAR", age=20)
    add(db, f"Our migration rollback failed (postmortem: {POSTMORTEM})", author="U_DAVE",
        channel="C_TEAM", age=10)
    add(db, "I broke the migration and hid it", author="U_EVE", anonymous=True,
        visibility="org", channel="C_FAR", age=5)
    add(db, "Private migration notes of mine", author="U_FRAN", visibility="private", age=4)
    add(db, "A migration story from a channel Alice is not in", author="U_GIL",
        channel="C_SECRET", age=3)
    add(db, "My own migration lesson", author="U_ALICE", channel="C_DATA", age=2)


def people_in(blocks: list[dict]) -> list[tuple[str, str]]:
    """(person, DM link) of each "Message" button."""
    return [(b["accessory"]["value"], b["accessory"]["url"]) for b in blocks
            if b.get("accessory", {}).get("action_id") == "lookback_dm"]


def test_related_lessons_name_people_channels_and_docs(bot, fake_slack, db):
    seed(db)
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_DATA"]  # where she is, says Slack
    answer = bot.slack.command("lesson the migration failed, staging would have caught it")
    assert "Saved your lesson" in answer.text
    related = fake_slack.wait_for("chat.postEphemeral")[0]
    assert related.body["user"] == "U_ALICE"
    blocks = related.body["blocks"]
    people = people_in(blocks)
    # Named entries others may read name their authors; never anonymous (Eve), private
    # (Fran), a channel she is not in (Gil), nor herself.
    assert sorted(p for p, _ in people) == ["U_BOB", "U_CAROL", "U_DAVE"]
    assert ("U_BOB", "slack://user?team=T0001&id=U_BOB") in people
    text = related.blocks_text()
    for hidden in ("U_EVE", "U_FRAN", "U_GIL", "C_SECRET", "Private migration notes"):
        assert hidden not in text, hidden
    assert "learned something close in <#C_DATA>" in text
    assert "It came up in" in text and "<#C_FAR>" in text  # other teams
    assert "<#C_TEAM>, " not in text.split("It came up in")[1]  # not where she is
    # The docs, whole and as links that go where they say.
    assert f"<{RUNBOOK.replace('&', '&amp;')}|" in text
    assert f"<{POSTMORTEM}|docs.example.com/pm/2026-10-outage>" in text
    assert "Have we learned this before?" in related.body["text"]  # the notification's text


def test_pressing_message_is_acknowledged(bot, fake_slack, db):
    answer = bot.slack.block_action({"action_id": "lookback_dm", "value": "U_BOB",
                                     "url": "slack://user?team=T0001&id=U_BOB"})
    assert answer.status == 200
    bot.settle()
    assert fake_slack.calls_to("chat.postEphemeral") == []  # nothing to say


def test_a_modal_lesson_confirms_with_the_look_back(bot, fake_slack, db):
    seed(db)
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_DATA"]  # where she is, says Slack
    bot.slack.command("")
    view = fake_slack.wait_for("views.open")[0].body["view"]
    bot.slack.view_submission(view, fill(view, {
        "kind": "opportunity", "text": "our migration needs a rollback plan"}))
    confirm = fake_slack.wait_for("chat.postEphemeral")[0]
    assert "Saved your opportunity" in confirm.body["blocks"][0]["text"]["text"]
    assert people_in(confirm.body["blocks"])
    assert "U_EVE" not in json.dumps(confirm.body)


def test_search_shows_the_docs_an_entry_links_to(bot, fake_slack, db):
    seed(db)
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_DATA"]  # where she is, says Slack
    text = search(bot, "dry run")
    assert ":page_facing_up: docs: <https://wiki.example.com/runbooks/db-migrations?step=2" \
           "&amp;v=1|wiki.example.com/runbooks/db-migrations?step=2&amp;v=1>" in text


def test_links_are_read_from_the_stored_text():
    assert links("see https://x.io/a, and (http://y.org/b). Also https://x.io/a!") == [
        "https://x.io/a", "http://y.org/b"]
    assert links("nothing here: ftp://z, javascript:alert(1), https://") == []
    # A labelled link in Slack's markup: each address is a link of its own, labelled
    # with itself, so no label can pass for another address.
    assert links("<https://evil.io|https://good.io>") == ["https://evil.io", "https://good.io"]


def counts(db) -> dict[str, int]:
    with db.session() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables}


def test_ask_answers_after_the_ack_to_the_caller_alone_and_stores_nothing(
        bot, fake_slack, db):
    seed(db)
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_DATA"]  # where she is, says Slack
    before = counts(db)
    answer = bot.slack.command("ask migrating the billing database to #postgres")
    assert "Looking back" in answer.text
    [late] = fake_slack.wait_for("response_url")
    assert late.path.startswith("/hooks/commands/T0001/")  # the command's own response_url
    assert late.body["response_type"] == "ephemeral"
    text = json.dumps(late.body)
    assert "Before you start on" in text and "migrating the billing database" in text
    assert late.body["text"].count("\n• ") == 3  # three lessons (which: the database ranks)
    assert sorted(p for p, _ in people_in(late.body["blocks"])) == [
        "U_BOB", "U_CAROL", "U_DAVE"]
    assert "U_EVE" not in text and "U_FRAN" not in text and "U_GIL" not in text
    assert "wiki.example.com/runbooks" in text
    bot.settle()
    assert counts(db) == before  # no entry, no outbox row, nothing
    # Nothing said anywhere else (Slack is only asked what Alice may read).
    asked = ("auth.test", "users.info", "users.conversations")
    assert [c.method for c in fake_slack.calls if c.method not in asked] == ["response_url"]


def test_ask_with_nothing_to_look_for_says_how(bot, fake_slack):
    for typed in ("ask", "ask the of and", "ask   "):
        answer = bot.slack.command(typed)
        assert answer.text.startswith(":warning:") and "/debrief ask" in answer.text
    assert fake_slack.calls_to("response_url") == []


def test_ask_when_nothing_is_known_yet(bot, fake_slack, db):
    bot.slack.command("ask zebra crossings")
    [late] = fake_slack.wait_for("response_url")
    assert "Nothing yet among the entries you can see" in late.body["text"]


def test_any_word_search_finds_the_same_newest_matches_through_its_window(db, monkeypatch):
    """PostgreSQL looks for an any-word query's newest matches among the workspace's newest
    entries first (bot/db/fulltext.py): what it finds is what a look everywhere finds,
    whether the window holds enough matches or not."""
    from bot.db import fulltext
    from bot.services import search as search_service

    for n in range(40):
        topic = "rollback" if n % 3 else "unrelated lunch"
        add(db, f"{topic} entry {n}", visibility="org" if n % 2 else "team",
            channel="C_FAR" if n % 4 == 0 else "C_TEAM", age=40 - n)
    viewer = search_service.Viewer("T0001", "U_ALICE", "C_TEAM")
    monkeypatch.setattr(search_service, "POOL", 6)

    def found(window: int, words: list[str], before_id: int | None = None) -> list[int]:
        monkeypatch.setattr(fulltext, "WINDOW", window)
        with db.session() as session:
            return search_service.ranked_ids(session, viewer, words, match_all=False,
                                             before_id=before_id)

    for words in (["rollback"], ["rollback", "lunch"], ["lunch"]):
        everywhere = found(10**6, words)
        assert everywhere, words
        for window in (3, 8, 30):  # too few matches in it, enough, all of them
            assert found(window, words) == everywhere, (words, window)
            assert found(window, words, before_id=30) == found(10**6, words, before_id=30)
