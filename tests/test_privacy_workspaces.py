"""Two and three workspaces in one database (PRODUCT.md §7, §9): the privacy walk, run from
the other workspaces, with the same user and channel ids, sees nothing of the first, not
even what is public there, and changes nothing of it; every Slack call it causes uses its
own workspace's token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import send_rotation_reminders
from bot.db.models import (
    Applause,
    Card,
    ChannelSettings,
    Digest,
    Entry,
    OutboxMessage,
    Reflection,
    Rotation,
    RotationMember,
    Turn,
    WorkspaceSettings,
)
from tests.kit.bot_server import BotServer
from tests.kit.privacy import walk
from tests.kit.slack_requests import reaction
from tests.kit.workspaces import install, oauth_settings, token_of
from tests.test_privacy import ANONYMOUS, ANONYMOUS_SHARED, PRIVATE, seed
from tests.test_rotation_reminders import rotation_due

A = "T0001"  # the seeded workspace: test_privacy's seed, plus a card, a rotation, applause
VIEWERS = ["U_ALICE", "U_MALLORY", "U_BOSS"]  # same ids as in A; U_BOSS is an admin
A_TEXTS = [*PRIVATE, ANONYMOUS, ANONYMOUS_SHARED, "bob named this one", "Launch plan",
           "ship the launch checklist", "tea with the on-call"]
B_TEXTS = ["B keeps its own counsel", "the B team shipped B things"]


@pytest.fixture
def oauth_bot(database_url, fake_slack):
    server = BotServer(oauth_settings(database_url, fake_slack.url))
    yield server
    server.stop()


def seed_a(bot, fake_slack, db) -> None:
    seed(bot, fake_slack, db)
    fake_slack.users.update({u: {"id": u, "deleted": False, "tz": "UTC"}
                             for u in ("U_ALICE", "U_BOB")})
    assert "Opened card" in bot.slack.command("card Launch plan", user="U_BOB").text
    bot.slack.command("lesson ship the launch checklist", user="U_BOB")
    bot.slack.command("digest here weekly mon 09:00", user="U_BOSS")
    bot.settle()
    # Applause on Bob's win, and a rotation whose reminder went out.
    [win] = [c for c in fake_slack.succeeded("chat.postMessage")
             if "bob named this one" in c.blocks_text()]
    bot.slack.event(reaction("reaction_added", user="U_ALICE", channel=win.body["channel"],
                             ts=win.response["ts"]))
    rotation_due(db, people=("U_ALICE", "U_BOB"), meeting_in=timedelta(minutes=5))
    assert send_rotation_reminders(bot.runtime) == 1
    bot.slack.command("opportunity tea with the on-call", user="U_ALICE")
    bot.settle()


def drained(bot, fake_slack, db) -> None:
    """Every waiting post has gone out (posts in one channel are paced: settle() alone
    returns while some still wait their turn)."""
    def nothing_pending() -> bool:
        with db.session() as session:
            return not session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.status == "pending")).first()

    fake_slack.wait_until(nothing_pending, timeout=30, what="an empty outbox")
    bot.settle()


def snapshot(db, team: str) -> dict[str, Any]:
    """Everything a workspace holds, as comparable values."""
    models = [Entry, Reflection, Applause, Card, Rotation, RotationMember, Turn, Digest,
              WorkspaceSettings, ChannelSettings, OutboxMessage]
    found: dict[str, Any] = {}
    with db.session() as session:
        for model in models:
            rows = session.scalars(select(model).where(
                model.__table__.c.team_id == team)).all()
            found[model.__tablename__] = sorted(
                tuple(sorted((k, repr(v)) for k, v in vars(row).items()
                              if not k.startswith("_"))) for row in rows)
    return found


def test_other_workspaces_see_and_change_nothing_of_one(oauth_bot, fake_slack, db):
    for team in (A, "T_B", "T_C"):
        install(oauth_bot, fake_slack, team)
    seed_a(oauth_bot, fake_slack, db)
    before = snapshot(db, A)
    assert before["cards"] and before["turns"] and before["applause"] and before["digests"]

    # B has its own life, seen by its own people.
    oauth_bot.slack.command(f"lesson {B_TEXTS[0]}", team="T_B", user="U_BOSS")
    oauth_bot.slack.command(f"win {B_TEXTS[1]}", team="T_B", user="U_BOB")
    drained(oauth_bot, fake_slack, db)
    before = snapshot(db, A)

    for team, unseen in (("T_B", A_TEXTS), ("T_C", A_TEXTS + B_TEXTS)):
        seen = walk(oauth_bot, fake_slack, db, author="U_ALICE", viewers=VIEWERS, team=team)
        drained(oauth_bot, fake_slack, db)
        seen.calls = fake_slack.calls[len(fake_slack.calls) - len(seen.calls):]
        for text in unseen:
            assert seen.find(text) == [], (team, text, [s.where for s in seen.find(text)])
        # The walk does see its own workspace: its silence above means something.
        assert seen.find("retro outage ask mistakes"), team
        assert {s.viewer for s in seen.sightings} >= set(VIEWERS)
        # Every Web API call the bot made for these people used their workspace's token
        # (a file's bytes and a response_url carry none).
        token = token_of(db, team)
        assert seen.calls and {c.token for c in seen.calls
                               if c.method not in ("upload", "response_url")} == {token}, team

    assert snapshot(db, A) == before  # nothing of A changed
    history = oauth_bot.slack.command("history", command="/hope", team=A, user="U_ALICE")
    assert PRIVATE[0] in history.body.decode()  # and A's Alice still reads her own
    found = oauth_bot.slack.command("search launch checklist", team="T_B").text
    assert found.startswith(":mag: Nothing found")
