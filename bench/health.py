"""The health picture: rendering one chart, and the health query at 1M entries, on SQLite
and PostgreSQL.

    python bench/health.py [--size 1000000] [--runs 200] [--backends sqlite,postgresql]
        [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--without-covering-index]

1. Rendering: `bot.views.health.render_png` for a 12-week picture, the first time (which
   imports matplotlib) and then warm, median of 20. Target: <= 300 ms.
2. The query: a fresh, migrated database bulk-loaded as bench/search_kudos.py does (Core
   executemany on SQLite with the full-text triggers off, COPY on PostgreSQL with the GIN
   index off; neither is rebuilt, this bench never searches): SIZE entries over two
   years, ~1,000 a channel by ~20 people, 100 channels to a workspace, 80% team, 10% org,
   10% private, 10% anonymous; a third of the lessons follow an opportunity. Then
   `bot.services.health.picture` timed for random channels (what `/debrief health` and
   the weekly post run) and for whole workspaces (the digest's picture). Baseline in the
   same run: `SELECT count(*)` of the channel's entries in the same 12 weeks.
   Target (issue 15): p50 <= 50 ms at 1M entries, both databases.
`--without-covering-index` puts the entries' indexes back as they were before migration
0014, to see what its covering indexes buy.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from bench.search_kudos import fresh_database  # noqa: E402
from bot.db import Database, fulltext, make_engine  # noqa: E402
from bot.db.models import CheckBack, Entry  # noqa: E402
from bot.services import health  # noqa: E402

NOW = datetime(2026, 11, 26, tzinfo=UTC)
SPAN_DAYS = 730
PER_CHANNEL, CHANNELS_PER_TEAM, PEOPLE = 1000, 100, 20
COVERING_INDEXES = ("ix_entries_health", "ix_entries_channel_health")
ENTRY_COLUMNS = ["id", "team_id", "channel_id", "author_id", "kind", "text", "visibility",
                 "anonymous", "source", "created_at", "tags"]
CHECK_COLUMNS = ["id", "team_id", "user_id", "entry_id", "plan", "status", "lesson_id",
                 "learned_at", "times_asked", "created_at"]


def generate(n: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    channels = max(1, n // PER_CHANNEL)
    entries: list[dict] = []
    checks: list[dict] = []
    last_opportunity: dict[int, int] = {}
    for i in range(1, n + 1):
        channel = rng.randrange(channels)
        kind = rng.choice(["win", "opportunity", "lesson"])
        entry = {"id": i, "team_id": f"T{channel // CHANNELS_PER_TEAM:04d}",
                 "channel_id": f"C{channel:05d}",
                 "author_id": f"U{channel:05d}{rng.randrange(PEOPLE):02d}", "kind": kind,
                 "text": "x", "visibility": rng.choices(["team", "org", "private"], [8, 1, 1])[0],
                 "anonymous": rng.random() < 0.1, "source": "command",
                 "created_at": NOW - timedelta(days=SPAN_DAYS * (n - i) / n), "tags": ""}
        entries.append(entry)
        if kind == "opportunity":
            last_opportunity[channel] = i
        elif kind == "lesson" and channel in last_opportunity and rng.random() < 0.33:
            opportunity = entries[last_opportunity.pop(channel) - 1]
            checks.append({"id": len(checks) + 1, "team_id": entry["team_id"],
                           "user_id": opportunity["author_id"], "entry_id": opportunity["id"],
                           "plan": "after", "status": "learned", "lesson_id": i,
                           "learned_at": entry["created_at"], "times_asked": 1,
                           "created_at": opportunity["created_at"]})
    return entries, checks


def load(url: str, backend: str, entries: list[dict], checks: list[dict]) -> None:
    # A bulk load is no request: the engine migrations use, without a statement limit.
    engine = make_engine(url)
    with engine.begin() as connection:
        if backend == "sqlite":
            for (name,) in connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'").all():
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
            for start in range(0, len(entries), 20_000):
                connection.execute(insert(Entry.__table__), entries[start:start + 20_000])
            for start in range(0, len(checks), 20_000):
                connection.execute(insert(CheckBack.__table__), checks[start:start + 20_000])
        else:
            connection.exec_driver_sql(f"DROP INDEX {fulltext.PG_INDEX}")
            cursor = connection.connection.cursor()
            for table, columns, rows in (("entries", ENTRY_COLUMNS, entries),
                                         ("checkbacks", CHECK_COLUMNS, checks)):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([_naive(row[c]) for c in columns])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE")
    engine.dispose()


def _naive(value: object) -> object:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def timed(work: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(url: str, entries: list[dict], runs: int) -> dict[str, list[float]]:
    rng = random.Random(11)
    scopes = sorted({(e["team_id"], e["channel_id"]) for e in entries})
    teams = sorted({team for team, _ in scopes})
    since = NOW - timedelta(weeks=health.WEEKS)
    database = Database(url)
    results: dict[str, list[float]] = {"baseline count": [], "channel": [], "workspace": []}
    with database.session() as db:
        for _ in range(10):  # warm the caches and the connection
            health.picture(db, *rng.choice(scopes), NOW)
            db.rollback()
        for _ in range(runs):
            team, channel = rng.choice(scopes)
            count = select(func.count()).select_from(Entry).where(
                Entry.team_id == team, Entry.channel_id == channel, Entry.created_at >= since)
            results["baseline count"] += timed(functools.partial(db.scalar, count), 1)
            db.rollback()
            results["channel"] += timed(
                functools.partial(health.picture, db, team, channel, NOW), 1)
            db.rollback()
        for _ in range(max(runs // 4, 10)):
            results["workspace"] += timed(
                functools.partial(health.picture, db, rng.choice(teams), None, NOW), 1)
            db.rollback()
    database.dispose()
    return results


def render_figures() -> tuple[float, list[float], list[float]]:
    """The first render (with matplotlib's import), then 20 warm ones: wall-clock and CPU
    milliseconds (the machine is shared: the CPU a render costs moves much less)."""
    from bot.views.health import render_png
    weeks = [health.Week(NOW - timedelta(weeks=health.WEEKS - n), 5 + n % 3, 2 + n % 4, n % 5,
                         n % 2, 6 + n % 4, n % 3) for n in range(health.WEEKS)]
    picture = health.Health("C1", weeks[0].start, NOW, weeks,
                            health.signals(weeks, 8, 7), 8)
    start = time.perf_counter()
    render_png(picture)
    first = (time.perf_counter() - start) * 1000
    wall, cpu = [], []
    for _ in range(20):
        start, used = time.perf_counter(), time.process_time()
        render_png(picture)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return first, wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--without-covering-index", action="store_true")
    args = parser.parse_args()

    first, warm, cpu = render_figures()
    print(f"render one chart: first {first:.0f} ms (imports matplotlib), warm median "
          f"{statistics.median(warm):.0f} ms (max {max(warm):.0f}), CPU median "
          f"{statistics.median(cpu):.0f} ms; target <= 300 ms; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    entries, checks = generate(args.size)
    print(f"{len(entries):,} entries, {len(checks):,} opportunities that became lessons; "
          f"times in ms; target p50 <= 50 ms")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url, drop = fresh_database(backend, args.pg_url, Path(tmp))
            try:
                start = time.perf_counter()
                load(url, backend, entries, checks)
                if args.without_covering_index:
                    engine = Database(url).engine
                    with engine.begin() as connection:
                        # As before 0014: the plain channel index, no workspace one.
                        for index in COVERING_INDEXES:
                            connection.execute(text(f"DROP INDEX IF EXISTS {index}"))
                        connection.execute(text(
                            "CREATE INDEX ix_entries_team_id_channel_id_created_at "
                            "ON entries (team_id, channel_id, created_at)"))
                    engine.dispose()
                print(f"{backend}: loaded in {time.perf_counter() - start:.0f} s"
                      + (" (covering index dropped)" if args.without_covering_index else ""))
                results = measure(url, entries, args.runs)
            finally:
                drop()
            base = statistics.median(results["baseline count"])
            for label, values in results.items():
                median = statistics.median(values)
                p90 = statistics.quantiles(values, n=10)[-1]
                print(f"    {label:14} p50 {median:7.2f}   p90 {p90:7.2f}   "
                      f"{median / base:5.1f}x the count")
    return 0


if __name__ == "__main__":
    sys.exit(main())
