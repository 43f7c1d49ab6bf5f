"""applause_leaderboard: the kudos query the benchmark measures."""

from __future__ import annotations

import itertools
from datetime import timedelta

from bot.db.models import Applause, Entry, utcnow
from bot.services.leaderboard import applause_leaderboard

_ts = itertools.count(1)


def clap(session, author, *, n=1, channel="C_TEAM", team="T0001", days_ago=1,
         anonymous=False) -> None:
    ts = f"{1700000000 + next(_ts)}.0001"
    entry = Entry(team_id=team, channel_id=channel, author_id=author, kind="win", text="x",
                  visibility="team", anonymous=anonymous, tags="",
                  message_channel_id=channel, message_ts=ts)
    session.add(entry)
    session.flush()
    for i in range(n):
        session.add(Applause(team_id=team, channel_id=channel, message_ts=ts,
                             reactor_id=f"U_FAN{i}", emoji="clap", author_id=author,
                             entry_id=entry.id, created_at=utcnow() - timedelta(days=days_ago)))


def test_applause_received_per_author_in_a_channel_since_a_date(db):
    with db.session() as session:
        clap(session, "U_BOB", n=2)
        clap(session, "U_BOB", n=1)
        clap(session, "U_CAROL", n=4)
        clap(session, "U_DAVE", n=9, days_ago=40)  # too old
        clap(session, "U_EVE", n=9, channel="C_ELSE")  # another channel
        clap(session, "U_FRED", n=9, team="T_OTHER")  # another workspace
        clap(session, "U_GINA", n=9, anonymous=True)  # anonymous: never ranked
        session.commit()
        board = applause_leaderboard(session, "T0001", "C_TEAM", utcnow() - timedelta(days=7))
    assert board == [("U_CAROL", 4), ("U_BOB", 3)]
