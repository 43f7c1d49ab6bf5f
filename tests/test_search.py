"""/debrief search and "have we learned this before?", through signed HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.db import fulltext
from bot.db.models import Applause, Entry, Kind, OutboxMessage
from bot.services import entries
from bot.services.entries import NewEntry
from bot.services.search import Viewer
from bot.services.search import search as find
from tests.kit.bot_server import BotServer, bot_settings
from tests.kit.slack_requests import fill

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def add(db, text, *, author="U_BOB", channel="C_TEAM", visibility="team", anonymous=False,
        kind="lesson", team="T0001", ts=None, age=0) -> int:
    """An entry as logging would store it (the full-text index follows by itself)."""
    with db.session() as session:
        entry = Entry(team_id=team, channel_id=channel, author_id=author, kind=kind,
                      text=text, visibility=visibility, anonymous=anonymous,
                      created_at=T0 - timedelta(days=age),
                      tags=" ".join(w[1:].lower() for w in text.split() if w.startswith("#")),
                      message_channel_id=channel if ts else None, message_ts=ts)
        session.add(entry)
        session.commit()
        return entry.id


def search(bot, query, **kwargs) -> str:
    answer = bot.slack.command("search " + query, **kwargs)
    assert answer.status == 200
    assert "went wrong" not in answer.text
    return answer.text


def test_finds_words_and_tags_with_a_link_to_the_message(bot, fake_slack, db):
    bot.slack.command("lesson Roll back before you debug #deploy")
    fake_slack.wait_for("chat.postMessage")
    bot.settle()  # the message ts is recorded
    add(db, "Unrelated: the coffee machine needs descaling")

    text = search(bot, "rollback OR debugging")  # no match: every word must be found
    assert "Nothing found" in text

    text = search(bot, "debugging")  # stemmed: debug
    assert "Roll back before you debug" in text
    assert "coffee" not in text
    with db.session() as session:
        entry = session.get(Entry, 1)
    # Slack's own link to the message (chat.getPermalink), kept when it was posted.
    assert entry.message_permalink == \
        f"https://test.slack.com/archives/C_TEAM/p{entry.message_ts.replace('.', '')}"
    assert f"<{entry.message_permalink}|open>" in text
    assert "from you" in text

    assert "Roll back" in search(bot, "#deploy")


def test_best_match_first_and_newest_first_on_ties(bot, db):
    add(db, "Write the runbook", age=5)
    add(db, "Runbook runbook runbook: keep the runbook next to the alert #runbook", age=9)
    add(db, "Write the runbook", age=1, author="U_CAROL")
    text = search(bot, "runbook")
    lines = [line for line in text.splitlines() if line.startswith(">")]
    assert lines[0].startswith("> Runbook runbook")
    assert "<@U_CAROL>" in text.splitlines()[3]  # of the two equal ones, the newer first
    assert "<@U_BOB>" in text.splitlines()[5]


def test_the_caller_sees_only_what_they_may(bot, db):
    add(db, "alpha mine private", author="U_ALICE", visibility="private", channel="C_ELSE")
    add(db, "alpha bob private", visibility="private")
    add(db, "alpha team here")
    add(db, "alpha team in a channel alice is not known to be in", channel="C_SECRET")
    add(db, "alpha org from anywhere", visibility="org", channel="C_FAR")
    add(db, "alpha other workspace org", visibility="org", team="T_OTHER")
    text = search(bot, "alpha")
    assert "alpha mine private" in text and ":lock: private" in text
    assert "alpha team here" in text
    assert "alpha org from anywhere" in text
    assert "bob private" not in text
    assert "C_SECRET" not in text and "not known" not in text
    assert "other workspace" not in text


def test_the_channels_the_caller_is_in_now_are_theirs_as_slack_says(bot, fake_slack, db):
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_DESIGN", "C_OPS"]
    add(db, "beta from the design channel", channel="C_DESIGN")
    add(db, "beta from the ops channel", channel="C_OPS")
    add(db, "beta from the secret channel", channel="C_SECRET")
    add(db, "my own beta-free note", author="U_ALICE", channel="C_SECRET")
    with db.session() as session:  # once she applauded there: that makes it no more hers
        session.add(Applause(team_id="T0001", channel_id="C_SECRET", message_ts="1.2",
                             reactor_id="U_ALICE", emoji="tada", author_id="U_BOB"))
        session.commit()
    text = search(bot, "beta", channel="C_TEAM")
    assert "design channel" in text and "ops channel" in text
    assert "secret channel" not in text
    # Dave's view is his own: Slack says he is in none of these but the one he is in.
    fake_slack.memberships["U_DAVE"] = []
    text = search(bot, "beta", user="U_DAVE", channel="C_SECRET")
    assert "secret channel" in text and "design" not in text


def test_anonymous_entries_never_show_their_author(bot, db):
    add(db, "gamma I broke prod", anonymous=True, visibility="org", channel="C_FAR")
    add(db, "gamma mine anonymously", author="U_ALICE", anonymous=True)
    text = search(bot, "gamma")
    assert "I broke prod" in text and "a teammate, anonymously" in text
    assert "U_BOB" not in text
    assert "from you, anonymously" in text
    assert "U_ALICE" not in search(bot, "gamma", user="U_CAROL")


@pytest.mark.parametrize("query", ['"', '"unclosed', "a*", "NEAR(a b)", "-x", "text:x",
                                   "AND OR NOT", "'); drop table entries; --", "x^y",
                                   "{col}:x", "(((", "é中文", "#"])
def test_query_syntax_never_breaks_the_search(bot, db, query):
    add(db, "delta (edge) cases")
    answer = bot.slack.command("search " + query)
    assert answer.status == 200
    assert "went wrong" not in answer.text


def test_an_empty_query_gets_usage(bot):
    for query in ("search", "search   ", "search the of"):
        text = bot.slack.command(query).text
        assert text.startswith(":warning:") and "/debrief search" in text


def test_deleted_entries_leave_the_index(bot, fake_slack, db):
    bot.slack.command("lesson epsilon goes away")
    assert "epsilon" in search(bot, "epsilon")
    bot.slack.command("delete 1")
    assert "Nothing found" in search(bot, "epsilon")


def test_related_lessons_follow_an_inline_lesson(bot, fake_slack, db):
    add(db, "Migrations need a dry run on a staging copy", age=30)
    add(db, "The staging database was stale", visibility="private", age=3)  # Bob's
    add(db, "Lunch was late", age=2)
    answer = bot.slack.command("lesson the migration failed, staging would have caught it")
    assert "Saved your lesson" in answer.text
    # A second ephemeral, for the author alone, right after the confirmation.
    related = fake_slack.wait_for("chat.postEphemeral")[0]
    assert (related.body["user"], related.body["channel"]) == ("U_ALICE", "C_TEAM")
    assert "Have we learned this before?" in related.body["text"]
    assert "dry run on a staging copy" in related.body["text"]
    assert "was stale" not in related.body["text"] and "Lunch" not in related.body["text"]


def test_no_related_lessons_for_a_win_or_when_nothing_matches(bot, fake_slack, db):
    add(db, "Migrations need a dry run on a staging copy")
    bot.slack.command("win staging migration done")
    bot.slack.command("lesson zebras are striped")
    fake_slack.wait_for("chat.postMessage", 2)
    outbox_drained(db)
    assert fake_slack.calls_to("chat.postEphemeral") == []


def outbox_drained(db, timeout: float = 10.0) -> None:
    """Wait until every queued Slack call has been handled (the related one included)."""
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as session:
            pending = session.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status == "pending"))
        if not pending:
            return
        assert time.monotonic() < deadline, f"{pending} outbox rows still pending"
        time.sleep(0.02)


def test_related_lessons_follow_a_modal_lesson_in_its_confirmation(bot, fake_slack, db):
    add(db, "Pin dependency versions before the release", visibility="org", channel="C_FAR",
        anonymous=True)
    bot.slack.command("")
    view = fake_slack.wait_for("views.open")[0].body["view"]
    bot.slack.view_submission(view, fill(view, {
        "kind": "opportunity", "text": "unpinned dependency broke the release build"}))
    confirm = fake_slack.wait_for("chat.postEphemeral")[0]
    assert confirm.body["user"] == "U_ALICE"
    assert "Have we learned this before?" in confirm.body["text"]
    assert "Pin dependency versions" in confirm.body["text"]
    assert "U_BOB" not in confirm.body["text"]


def test_queries_arrive_escaped_and_are_searched_as_typed(bot, db):
    add(db, "Budget R&D earlier next time #release")
    # `R&D` arrives as R&amp;D; `#release` as a channel link when such a channel exists.
    assert "Budget R&amp;D earlier" in search(bot, "R&amp;D budget")
    assert "Budget R&amp;D earlier" in search(bot, "<#C0REL|release>")
    nothing = search(bot, "x &gt; y")
    assert "&amp;gt;" not in nothing


# SQLite indexes an entry after its commit (bot/db/fulltext.py): these hold it to that.

def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL indexes in the same statement (a generated column)")


def waiting_to_be_indexed(db) -> int:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT count(*) FROM {fulltext.PENDING_TABLE}").scalar()


def index_is_whole(db) -> None:
    """FTS5's own check that the index holds exactly what `entries` says (it raises)."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            f"INSERT INTO {fulltext.FTS_TABLE}({fulltext.FTS_TABLE}, rank) "
            "VALUES ('integrity-check', 1)")


def test_a_search_finds_what_was_just_logged(database_url, fake_slack, db):
    sqlite_only(database_url)
    server = BotServer(bot_settings(database_url, fake_slack.url), start_worker=False)
    try:
        server.slack.command("lesson Pin the base image #docker")
        assert waiting_to_be_indexed(db) == 1  # the command did not index it
        assert "Pin the base image" in search(server, "docker")
        assert waiting_to_be_indexed(db) == 0
        index_is_whole(db)
    finally:
        server.stop()


def test_the_outbox_worker_indexes_new_entries(bot, fake_slack, database_url, db):
    sqlite_only(database_url)
    bot.slack.command("win Indexed in the background")
    fake_slack.wait_until(lambda: waiting_to_be_indexed(db) == 0, what="the entry indexed")
    bot.settle()
    index_is_whole(db)
    assert "Indexed in the background" in search(bot, "background")


@pytest.mark.parametrize("indexed_first", [False, True])
def test_a_deleted_entry_and_its_reused_id_keep_the_index_whole(database_url, db,
                                                                  indexed_first):
    sqlite_only(database_url)

    def log(text: str) -> int:
        with db.session() as session:
            return entries.log_entry(session, NewEntry(
                team_id="T0001", channel_id="C_TEAM", author_id="U_BOB", kind=Kind.WIN,
                text=text)).id

    first = log("Rotate the signing secret")
    if indexed_first:
        db.index_pending()
    with db.session() as session:
        entries.delete_entry(session, "T0001", "U_BOB", first)
        session.commit()
    second = log("Renew the certificate")
    assert second == first  # SQLite hands the freed id out again
    db.index_pending()
    index_is_whole(db)
    with db.session() as session:
        viewer = Viewer("T0001", "U_BOB", "C_TEAM")
        assert [e.text for e in find(session, viewer, "certificate")] == ["Renew the certificate"]
        assert find(session, viewer, "secret") == []


def test_an_entry_changed_before_it_is_indexed_is_indexed_as_it_now_reads(database_url, db):
    sqlite_only(database_url)  # nothing edits entries yet; the trigger must still be right
    with db.session() as session:
        entry_id = entries.log_entry(session, NewEntry(
            team_id="T0001", channel_id="C_TEAM", author_id="U_BOB", kind=Kind.WIN,
            text="Draft wording")).id
    with db.session() as session:
        session.execute(update(Entry).where(Entry.id == entry_id)
                        .values(text="Final wording", tags="final"))
        session.commit()
    db.index_pending()
    with db.session() as session:  # and changed again once it is in the index
        session.execute(update(Entry).where(Entry.id == entry_id).values(text="Last wording"))
        session.commit()
    index_is_whole(db)
    with db.session() as session:
        viewer = Viewer("T0001", "U_BOB", "C_TEAM")
        assert [e.text for e in find(session, viewer, "last")] == ["Last wording"]
        assert find(session, viewer, "draft") == [] and find(session, viewer, "final") != []
