"""Private stays private, anonymous stays anonymous: the walk over every read path, as a
member and as a workspace admin, plus the logs and the error messages."""

from __future__ import annotations

import json
import logging

from sqlalchemy import text

from tests.kit.privacy import walk
from tests.kit.slack_requests import fill
from tests.test_hope import reflect
from tests.test_hope_share import click_share

AUTHOR = "U_ALICE"
VIEWERS = ["U_MALLORY", "U_BOSS"]  # a teammate, and a workspace admin

PRIVATE = ["my manager scared me in the retro", "I hid the outage for an hour",
           "nobody helped because I did not ask", "I will stop covering my mistakes",
           "I cried after the private demo"]
ANONYMOUS = "the anonymous lesson about flaky tests"
ANONYMOUS_SHARED = "the shared reflection about skipping backups"
# Bob's card asks Alice; she adds to it anonymously: nothing may tell it was her.
ANONYMOUS_ON_CARD = "the anonymous card lesson about rollbacks"


def people(fake_slack) -> None:
    fake_slack.users.update({
        "U_BOSS": {"id": "U_BOSS", "name": "boss", "is_admin": True, "is_owner": True},
        "U_MALLORY": {"id": "U_MALLORY", "name": "mallory", "is_admin": False},
    })


def debrief_modal(bot, fake_slack, values) -> None:
    before = len(fake_slack.calls_to("views.open"))
    bot.slack.command("", user=AUTHOR)
    view = fake_slack.wait_for("views.open", before + 1)[before].body["view"]
    answer = bot.slack.view_submission(view, fill(view, values), user=AUTHOR)
    assert answer.status == 200 and b"errors" not in answer.body


def seed(bot, fake_slack, db) -> None:
    """Alice writes privately, anonymously, and shares a reflection anonymously;
    Bob posts a named win (what the walk must be able to see)."""
    people(fake_slack)
    reflect(bot, fake_slack, {f"hope_answer_{n}": PRIVATE[n - 1] for n in range(1, 5)})
    reflect(bot, fake_slack, {"hope_answer_2": ANONYMOUS_SHARED})
    with db.session() as session:
        second = session.execute(text("SELECT max(id) FROM reflections")).scalar_one()
    modal = click_share(bot, fake_slack, second)
    bot.slack.view_submission(modal, fill(modal, {"hope_share_with": "org",
                                                  "hope_share_anonymous": ["yes"]}))
    debrief_modal(bot, fake_slack, {"kind": "lesson", "text": PRIVATE[4],
                                    "visibility": "private"})
    debrief_modal(bot, fake_slack, {"kind": "lesson", "text": ANONYMOUS,
                                    "anonymous": ["yes"]})
    bot.slack.command("win bob named this one", user="U_BOB")
    fake_slack.wait_for("chat.postMessage", 3)
    bot.slack.command("card Privacy walk <@U_ALICE|alice> <@U_BOB|bob>", user="U_BOB")
    debrief_modal(bot, fake_slack, {"kind": "lesson", "text": ANONYMOUS_ON_CARD, "card": "1",
                                    "anonymous": ["yes"]})


def test_no_read_path_shows_private_text_or_an_anonymous_author(bot, fake_slack, db, caplog):
    caplog.set_level(logging.INFO)
    seed(bot, fake_slack, db)

    seen = walk(bot, fake_slack, db, author=AUTHOR, viewers=VIEWERS)

    for secret in PRIVATE:
        assert seen.find(secret) == [], secret
    assert seen.find(AUTHOR) == [], [(s.viewer, s.where) for s in seen.find(AUTHOR)]
    # The walk sees what is public, so its silence above means something.
    assert seen.find(ANONYMOUS) and seen.find(ANONYMOUS_SHARED)
    assert seen.find(ANONYMOUS_ON_CARD)
    assert seen.find("0 of 2 collaborators have added")  # what the card shows: counts
    # The look back names people, so its silence about Alice means something too.
    assert [s for s in seen.find("lookback_dm") if "U_BOB" in s.text]
    assert seen.find("U_BOB")
    assert {s.viewer for s in seen.sightings} >= set(VIEWERS)

    # Nor do the logs, at INFO and above.
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records
                       if r.levelno >= logging.INFO)
    for secret in [*PRIVATE, ANONYMOUS, ANONYMOUS_SHARED, ANONYMOUS_ON_CARD]:
        assert secret not in logged
    assert AUTHOR not in logged


def test_the_author_still_reads_their_own(bot, fake_slack, db):
    seed(bot, fake_slack, db)
    history = json.dumps(bot.slack.command("history", command="/hope", user=AUTHOR).json())
    assert PRIVATE[0] in history
    assert "Shared with the organisation anonymously" in history


def test_a_failure_while_saving_keeps_the_modal_open_and_logs_no_text(
        bot, fake_slack, db, caplog):
    caplog.set_level(logging.INFO)
    with db.engine.begin() as connection:  # the database loses the table mid-flight
        connection.execute(text("ALTER TABLE reflections RENAME TO reflections_away"))
    try:
        answer = reflect(bot, fake_slack, {"hope_answer_1": PRIVATE[0]})
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE reflections_away RENAME TO reflections"))
    assert answer.json()["response_action"] == "errors"
    assert "press the button again" in answer.json()["errors"]["hope_answer_1"]
    assert PRIVATE[0] not in answer.body.decode()
    assert any(r.levelno >= logging.ERROR for r in caplog.records)  # it was logged…
    for record in caplog.records:  # …without what she wrote
        assert PRIVATE[0] not in record.getMessage() + (record.exc_text or "")
        assert PRIVATE[0] not in logging.Formatter().format(record)


def test_forged_shares_by_others_share_nothing(bot, fake_slack, db):
    seed(bot, fake_slack, db)
    seen = walk(bot, fake_slack, db, author=AUTHOR, viewers=VIEWERS)
    # The probe's own answers (not Slack calls that happened to go out while it ran).
    forged = "a forged share form naming every reflection"
    refusals = [s for s in seen.sightings if s.where == forged]
    assert len(refusals) == 2 * len(VIEWERS)
    assert all("not there any more" in s.text for s in refusals)
    with db.session() as session:  # (the walk logs lessons of its own, but none of these)
        assert session.execute(text("SELECT count(*) FROM entries WHERE text = 'forged'")
                               ).scalar_one() == 0


def test_only_the_reflections_service_queries_reflections():
    """Every read in bot/services/reflections.py takes the reader's id and returns only
    what they wrote. App Home, search, export, digest…: call `reflections.history` /
    `reflections.own` with the viewer's id; never query the table yourself."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "bot"
    allowed = {"db/models.py", "services/reflections.py", "services/forget.py"}
    offenders = []
    for path in root.rglob("*.py"):
        name = path.relative_to(root).as_posix()
        if name in allowed or name.startswith(("views/", "db/migrations/")):
            continue  # views only render what a service handed them
        tree = ast.parse(path.read_text())
        if any(isinstance(node, ast.Name) and node.id == "Reflection"
               for node in ast.walk(tree)):
            offenders.append(name)
    assert offenders == [], f"{offenders} use the Reflection model directly"


SECRET_CHANNEL = "the secret channel keeps its postmortem"
ORG_WIDE = "the organisation lesson about pagers"


def test_readers_see_only_what_slack_lets_them_read_now(bot, fake_slack, db):
    """Mallory once wrote in the private #secret and has left it; the guest is in #team
    only. Neither may read #secret's team entries, and the guest no org-wide ones."""
    people(fake_slack)
    fake_slack.users["U_GUEST"] = {"id": "U_GUEST", "name": "guest", "is_restricted": True}
    bot.slack.command(f"lesson {SECRET_CHANNEL}", user=AUTHOR, channel="C_SECRET")
    bot.slack.command("lesson mallory wrote in the secret channel once", user="U_MALLORY",
                      channel="C_SECRET")
    bot.slack.command("win mallory applauded there too", user=AUTHOR, channel="C_SECRET")
    debrief_modal(bot, fake_slack, {"kind": "lesson", "text": ORG_WIDE, "visibility": "org"})
    fake_slack.wait_for("chat.postMessage", 4)
    fake_slack.memberships.update({"U_MALLORY": ["C_TEAM"], "U_GUEST": ["C_TEAM"]})

    seen = walk(bot, fake_slack, db, author=AUTHOR, viewers=["U_MALLORY", "U_GUEST"])

    for viewer in ("U_MALLORY", "U_GUEST"):
        assert seen.seen_by(viewer, SECRET_CHANNEL) == [], viewer
    # The digest is posted in the channel an admin chose, for whoever is in it.
    assert seen.seen_by("U_GUEST", ORG_WIDE, besides=("the organisation digest",)) == []
    assert seen.seen_by("U_MALLORY", ORG_WIDE)  # members do read org-wide entries
