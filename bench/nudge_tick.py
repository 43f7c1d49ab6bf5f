"""The nudge clock's tick with 10,000 open cards and 50,000 collaborators, on SQLite and
PostgreSQL: when nothing is due (most ticks) and when 100 are. Target (issue 16): median
<= 100 ms for both. Baseline, measured in the same run: the same tick on the same database
before any card exists.

The data: 1,000 channels in 10 workspaces, ten open cards each, five collaborators per card
drawn from the channel's twenty people; every channel has a rotation in Europe/Berlin with
those twenty as members, one in ten of them with their own holiday country (their
calendars are read on every nudge). The next nudges are spread over the coming week.

    python bench/nudge_tick.py [--backends sqlite,postgresql]
        [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--rounds 21] [--channels 1000]

Each round's 100 due nudges are timed once: the median of 21 rounds (the default) is
steadier than of a handful. `--channels` scales the data down (ten cards a channel) to
check the benchmark itself quickly; the target is for the default 1,000.

The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, update  # noqa: E402

from bench.search_kudos import fresh_database  # noqa: E402
from bot.clock import nudge_due  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.db.models import (  # noqa: E402
    Card,
    CardCollaborator,
    OutboxMessage,
    Rotation,
    RotationMember,
)

# A Monday, 10:00 in London and 11:00 in Berlin: a working moment for everyone.
NOW = datetime(2026, 11, 9, 10, 0, tzinfo=UTC)
CHANNELS, CARDS_PER_CHANNEL, PER_CARD, PEOPLE_PER_CHANNEL = 1000, 10, 5, 20
CHANNELS_PER_TEAM = 100


def fill(database: Database, channels: int = CHANNELS, seed: int = 5) -> int:
    """The cards, collaborators and rotations; how many collaborators."""
    rng = random.Random(seed)
    week = 7 * 24 * 3600
    cards, collaborators, rotations, members = [], [], [], []
    for c in range(channels):
        team, channel = f"T{c // CHANNELS_PER_TEAM:03d}", f"C{c:05d}"
        people = [f"U{c:05d}{p:02d}" for p in range(PEOPLE_PER_CHANNEL)]
        rotations.append({"id": c + 1, "team_id": team, "channel_id": channel,
                          "days": "0", "meeting_time": "09:30", "tz_name": "Europe/Berlin",
                          "lead_minutes": 10, "paused": False, "created_at": NOW})
        members += [{"team_id": team, "rotation_id": c + 1, "user_id": person,
                     "joined_at": NOW, "deactivated": False,
                     "holiday_country": "DE" if rng.random() < 0.1 else None}
                    for person in people]
        for k in range(CARDS_PER_CHANNEL):
            card_id = c * CARDS_PER_CHANNEL + k + 1
            cards.append({"id": card_id, "team_id": team, "channel_id": channel,
                          "title": f"Card {card_id}", "opened_by": people[0],
                          "status": "open", "revision": 0, "shown_revision": 0,
                          "created_at": NOW - timedelta(days=3)})
            for person in rng.sample(people, PER_CARD):
                collaborators.append({
                    "team_id": team, "card_id": card_id, "user_id": person,
                    "added_by": people[0], "added_at": NOW - timedelta(days=3),
                    "active_at": NOW - timedelta(days=3), "muted": False,
                    "next_nudge_at": NOW + timedelta(seconds=rng.randrange(60, week))})
    with database.engine.begin() as connection:
        for model, rows in ((Rotation, rotations), (RotationMember, members), (Card, cards),
                            (CardCollaborator, collaborators)):
            for start in range(0, len(rows), 10_000):
                connection.execute(insert(model), rows[start:start + 10_000])
        if connection.dialect.name == "postgresql":
            for table in ("cards", "card_collaborators", "rotations", "rotation_members"):
                connection.exec_driver_sql(f"ANALYZE {table}")
        else:
            connection.exec_driver_sql("ANALYZE")
    return len(collaborators)


def make_due(database: Database, count: int, at: datetime, rng: random.Random,
             total: int) -> None:
    """`count` of the `total` collaborators, quiet for eight days, whose nudge falls due
    at `at`."""
    with database.engine.begin() as connection:
        ids = rng.sample(range(1, total + 1), count)
        connection.execute(update(CardCollaborator).where(CardCollaborator.id.in_(ids))
                           .values(next_nudge_at=at, active_at=at - timedelta(days=8),
                                   nudged_at=None))


def timed(work: Callable[[], int], expect: int) -> float:
    started = time.perf_counter()
    got = work()
    elapsed = (time.perf_counter() - started) * 1000
    assert got == expect, (got, expect)
    return elapsed


def line(label: str, values: list[float]) -> str:
    return (f"    {label:34} median {statistics.median(values):7.2f} ms   "
            f"max {max(values):7.2f} ms   (n={len(values)})")


def measure(url: str, rounds: int, channels: int = CHANNELS) -> None:
    database = Database(url)
    empty = [timed(lambda: nudge_due(database, NOW), 0) for _ in range(30)]
    started = time.perf_counter()
    count = fill(database, channels)
    print(f"    loaded {channels * CARDS_PER_CHANNEL:,} open cards and {count:,} "
          f"collaborators in {time.perf_counter() - started:.0f} s")
    idle = [timed(lambda: nudge_due(database, NOW), 0) for _ in range(30)]
    rng = random.Random(9)
    busy = []
    for n in range(rounds):
        at = NOW + timedelta(seconds=n)
        make_due(database, 100, at, rng, count)
        busy.append(timed(partial(nudge_due, database, at), 100))
    with database.session() as db:
        queued = db.query(OutboxMessage).count()
    database.dispose()
    print(line("baseline: no cards at all", empty))
    print(line("none due", idle))
    print(line("100 due (each nudged)", busy))
    base = statistics.median(empty)
    print(f"    ratios to the baseline: none due {statistics.median(idle) / base:.1f}x, "
          f"100 due {statistics.median(busy) / base:.1f}x; nudges queued: {queued:,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--channels", type=int, default=CHANNELS)
    parser.add_argument("--pg-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print("nudge tick (bot.clock.nudge_due); target: median <= 100 ms")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url, drop = fresh_database(backend, args.pg_url, Path(tmp))
            print(backend)
            try:
                measure(url, args.rounds, args.channels)
            finally:
                drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
