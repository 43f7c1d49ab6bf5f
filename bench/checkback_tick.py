"""The check-back tick with 100,000 open opportunities, on SQLite and PostgreSQL.

    python bench/checkback_tick.py [--open 100000] [--due 50] [--runs 30]
        [--backends sqlite,postgresql] [--pg-url postgresql://postgres@127.0.0.1:5432/test]

For each backend: a fresh, migrated database (bench/search_kudos.py's `fresh_database`),
bulk-loaded with OPEN opportunities from 2,000 people in 20 workspaces, each with an open
check-back due some time in the next 30 days, and 2,000 rotation members (a tenth of them
away). Then `bot.clock.check_back_due` (what the clock runs every minute), timed:
- with none due (most ticks): one indexed lookup;
- with DUE due (moved to a minute ago before each run, not timed): the lookup, the claim,
  the away check and a DM queued for each, committed.
Baseline in the same run: one empty unit of work (open a session, SELECT 1, commit).
Target (issue 15): median <= 100 ms for both, on both databases.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text, update  # noqa: E402

from bench.search_kudos import fresh_database  # noqa: E402
from bot.clock import check_back_due  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.db.models import CheckBack, Entry, Rotation, RotationMember  # noqa: E402

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def load(url: str, backend: str, count: int) -> None:
    rng = random.Random(5)
    entries, checks = [], []
    for i in range(1, count + 1):
        team, person = f"T{i % 20:03d}", f"U{i % 2000:05d}"
        created = NOW - timedelta(days=rng.uniform(0, 30))
        entries.append({"id": i, "team_id": team, "channel_id": f"C{i % 500:04d}",
                        "author_id": person, "kind": "opportunity", "text": f"opportunity {i}",
                        "visibility": "team", "anonymous": False, "source": "command",
                        "created_at": created, "tags": ""})
        checks.append({"id": i, "team_id": team, "user_id": person, "entry_id": i,
                       "plan": "after", "status": "open", "times_asked": 0,
                       "created_at": created,
                       "due_at": NOW + timedelta(days=rng.uniform(0.01, 30))})
    database = Database(url)
    with database.engine.begin() as connection:
        if backend == "sqlite":  # the full-text triggers off: this bench never searches
            for (name,) in connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'").all():
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
        for start in range(0, count, 20_000):
            connection.execute(insert(Entry.__table__), entries[start:start + 20_000])
            connection.execute(insert(CheckBack.__table__), checks[start:start + 20_000])
        rotations = [{"id": n + 1, "team_id": f"T{n:03d}", "channel_id": "C_ROTA", "days": "",
                      "lead_minutes": 10, "paused": False, "created_at": NOW}
                     for n in range(20)]
        connection.execute(insert(Rotation.__table__), rotations)
        connection.execute(insert(RotationMember.__table__), [
            {"team_id": f"T{n % 20:03d}", "rotation_id": n % 20 + 1, "user_id": f"U{n:05d}",
             "joined_at": NOW, "deactivated": False,
             "away_until": date(2026, 12, 24) if n % 10 == 0 else None} for n in range(2000)])
        if backend == "postgresql":
            for table in ("entries", "checkbacks", "rotation_members"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("ANALYZE")
    database.dispose()


def timed(work: Callable[[], object], runs: int,
          before: Callable[[], object] | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(url: str, count: int, due: int, runs: int) -> dict[str, list[float]]:
    database = Database(url)
    rng = random.Random(9)
    ids = list(range(1, count + 1))  # load()'s ids: every sample names `due` real rows

    def empty_unit() -> None:
        with database.session() as db:
            db.execute(text("SELECT 1"))
            db.commit()

    def make_due() -> None:
        chosen = rng.sample(ids, due)
        with database.session() as db:
            db.execute(update(CheckBack).where(CheckBack.id.in_(chosen))
                       .values(status="open", due_at=NOW - timedelta(minutes=1)))
            db.commit()

    asked: list[int] = []
    results = {
        "baseline": timed(empty_unit, runs * 3),
        "none due": timed(lambda: asked.append(check_back_due(database, NOW)), runs * 3),
    }
    assert not any(asked), "nothing should have been due"
    results[f"{due} due"] = timed(lambda: asked.append(check_back_due(database, NOW)), runs,
                                  before=make_due)
    database.dispose()
    print(f"    asked per run with {due} due: min {min(asked[-runs:])}, "
          f"max {max(asked[-runs:])} (people away are moved past their date, not asked)")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=50)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    if not 0 < args.due <= args.open:
        parser.error("--due must be between 1 and --open")
    print(f"check-back tick, {args.open:,} open opportunities; times in ms; target median "
          "<= 100 ms")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url, drop = fresh_database(backend, args.pg_url, Path(tmp))
            try:
                start = time.perf_counter()
                load(url, backend, args.open)
                print(f"{backend}: loaded in {time.perf_counter() - start:.0f} s")
                results = measure(url, args.open, args.due, args.runs)
            finally:
                drop()
            base = statistics.median(results["baseline"])
            for label, values in results.items():
                median = statistics.median(values)
                print(f"    {label:9} median {median:7.2f}   max {max(values):7.2f}   "
                      f"{median / base:6.1f}x the empty unit of work")
    return 0


if __name__ == "__main__":
    sys.exit(main())
