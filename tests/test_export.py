"""/debrief export: the channel's team-visible entries as a file, through files_upload_v2."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from bot.db.models import Applause, Entry, OutboxMessage
from tests.kit.slack_requests import fill


def log_in_modal(bot, fake_slack, *, user="U_ALICE", channel="C_TEAM", **answers) -> None:
    before = len(fake_slack.calls_to("views.open"))
    bot.slack.command("", user=user, channel=channel)
    view = fake_slack.wait_for("views.open", before + 1)[before].body["view"]
    answer = bot.slack.view_submission(view, fill(view, answers), user=user)
    assert answer.status == 200 and b"errors" not in answer.body, answer.body


def exported(fake_slack) -> dict:
    """The export's file (a digest may share its picture too)."""
    def exports() -> list[dict]:
        return [f for f in fake_slack.uploaded()
                if str(f.get("filename") or "").startswith("debrief-")]

    fake_slack.wait_until(lambda: exports(), what="the uploaded file")
    [file] = exports()
    return file


def rows_of(file: dict) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(file["content"].decode())))


@pytest.fixture
def channel_history(bot, fake_slack):
    """Alice's team win, Bob's anonymous lesson, an org opportunity, a private entry,
    and entries elsewhere: another channel, another workspace."""
    bot.slack.command("win shipped the importer #launch", user="U_ALICE")
    log_in_modal(bot, fake_slack, user="U_BOB", kind="lesson", text="I deployed on a Friday",
                 anonymous=["yes"])
    log_in_modal(bot, fake_slack, user="U_CAROL", kind="opportunity",
                 text="share the runbook org-wide", visibility="org")
    log_in_modal(bot, fake_slack, user="U_ALICE", kind="lesson", text="my private fear",
                 visibility="private")
    bot.slack.command("win another channel's win", channel="C_OTHER")
    bot.slack.command("win another workspace's win", team="T_OTHER", user="U_ZED")


def test_csv_export_holds_what_the_channel_may_see(bot, fake_slack, db, channel_history,
                                                    monkeypatch):
    monkeypatch.setitem(fake_slack.users, "U_ALICE", {
        "id": "U_ALICE", "name": "alice", "real_name": "Alice L",
        "profile": {"display_name": "alice", "real_name": "Alice L"}})
    monkeypatch.setitem(fake_slack.users, "U_BOB", {"id": "U_BOB", "name": "bob",
                                                    "profile": {}})
    fake_slack.gone.add("U_CAROL")  # Slack knows no name for her
    bot.settle()
    before = len(fake_slack.calls_to("users.info"))
    answer = bot.slack.command("export")

    assert "Exporting 3 entries as CSV" in answer.text
    file = exported(fake_slack)
    assert file["channel_id"] == "C_TEAM"
    assert file["filename"].startswith("debrief-C_TEAM-") and file["filename"].endswith(".csv")
    assert "<@U_ALICE> exported" in file["initial_comment"]
    rows = rows_of(file)
    assert [(r["kind"], r["text"]) for r in rows] == [
        ("win", "shipped the importer #launch"),
        ("lesson", "I deployed on a Friday"),
        ("opportunity", "share the runbook org-wide"),
    ]
    assert [r["author_id"] for r in rows] == ["U_ALICE", "", "U_CAROL"]
    assert [r["author"] for r in rows] == ["alice", "anonymous", ""]  # Carol: no name known
    asked = {c.body["user"] for c in fake_slack.calls_to("users.info")[before:]}
    assert asked == {"U_ALICE", "U_CAROL"}  # an anonymous author is never even looked up
    assert [r["visibility"] for r in rows] == ["team", "team", "org"]
    assert rows[0]["tags"] == "#launch"
    content = file["content"].decode()
    for never in ("my private fear", "U_BOB", "bob", "another channel", "another workspace"):
        assert never not in content


def test_the_upload_follows_slacks_three_steps(bot, fake_slack, db):
    bot.slack.command("win one")
    bot.slack.command("export csv")
    exported(fake_slack)
    steps = [c.method for c in fake_slack.calls
             if c.method in ("files.getUploadURLExternal", "upload",
                             "files.completeUploadExternal")]
    assert steps == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    [url_call] = fake_slack.calls_to("files.getUploadURLExternal")
    [file] = fake_slack.uploaded()
    assert int(url_call.body["length"]) == len(file["content"])


def test_markdown_export_is_an_escaped_table(bot, fake_slack, db):
    log_in_modal(bot, fake_slack, kind="lesson", text="pipes | break *tables*\nsecond line")
    bot.slack.command("export md")
    file = exported(fake_slack)
    assert file["filename"].endswith(".md")
    lines = file["content"].decode().splitlines()
    assert lines[2].startswith("| id | created_at_utc | kind |")
    [row] = [line for line in lines if "pipes" in line]
    assert r"pipes \| break \*tables\*<br>second line" in row
    assert row.count(" | ") == 9  # ten cells: the text's pipe does not split the row


def test_cells_that_look_like_formulas_are_defused(bot, fake_slack, db):
    bot.slack.command("win =HYPERLINK(\"http://evil.example\")")
    bot.slack.command("export")
    [row] = rows_of(exported(fake_slack))
    assert row["text"] == "'=HYPERLINK(\"http://evil.example\")"
    with db.session() as session:  # stored as typed all the same
        assert session.scalars(select(Entry.text)).one().startswith("=HYPERLINK")


def test_export_shows_cards_and_applause(bot, fake_slack, db):
    bot.slack.command("card Checkout")
    log_in_modal(bot, fake_slack, kind="win", text="on the card", card="1")
    fake_slack.wait_until(lambda: _entry(db).message_ts is not None)
    entry = _entry(db)
    with db.session() as session:
        for reactor in ("U_A", "U_B"):
            session.add(Applause(team_id="T0001", channel_id="C_TEAM",
                                 message_ts=entry.message_ts, reactor_id=reactor,
                                 emoji="tada", author_id="U_ALICE", entry_id=entry.id))
        session.commit()
    bot.slack.command("export")
    [row] = rows_of(exported(fake_slack))
    assert (row["card"], row["applause"]) == ("Checkout", "2")


def _entry(db) -> Entry:
    with db.session() as session:
        return session.scalars(select(Entry)).one()


@pytest.mark.parametrize(("typed", "says"), [
    ("export pdf", "Export as `csv` or `md`"),
    ("export", "nothing to export"),
])
def test_bad_or_empty_exports_say_so_and_send_nothing(bot, fake_slack, db, typed, says):
    log_in_modal(bot, fake_slack, kind="lesson", text="only mine", visibility="private")
    answer = bot.slack.command(typed)
    assert answer.text.startswith(":warning:") and says in answer.text
    bot.settle()
    assert fake_slack.calls_to("files.getUploadURLExternal") == []
    with db.session() as session:
        actions = session.scalars(select(OutboxMessage.action)).all()
    assert "upload_export" not in actions


def test_a_failed_upload_is_retried(bot, fake_slack, db):
    bot.slack.command("win retry me")
    fake_slack.fail("files.completeUploadExternal", status=500)
    bot.slack.command("export")
    fake_slack.wait_for("files.completeUploadExternal", 2)
    fake_slack.wait_until(lambda: fake_slack.uploaded())
    assert len(fake_slack.uploaded()) == 1
    assert "retry me" in fake_slack.uploaded()[0]["content"].decode()
    assert fake_slack.uploaded()[0]["channel_id"] == "C_TEAM"


def test_an_export_that_cannot_be_shared_tells_who_asked(bot, fake_slack, db):
    bot.slack.command("win kept safe")
    fake_slack.fail("files.completeUploadExternal", error="channel_not_found")
    bot.slack.command("export", user="U_DAN")
    dm = fake_slack.wait_for("chat.postMessage", 2)[1]
    assert dm.body["channel"] == "U_DAN"
    assert "could not share the export" in dm.body["text"]
    assert "kept safe" not in dm.body["text"]
