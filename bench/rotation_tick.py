"""Benchmark of the rotation's clock: `python bench/rotation_tick.py [DATABASE_URL]`.

1. One scheduler tick with 10,000 rotations in the database (target <= 100 ms): when nothing
   is due (most ticks) and when a few are.
2. The delay from a reminder's due time to its chat.postMessage at the fake Slack
   (target <= 1 s), with the real scheduler, outbox worker and HTTP client.

Default database: a fresh SQLite file. Give a PostgreSQL URL to measure that instead.
The figures are noisy on a shared machine: read them as orders of magnitude.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from bot.clock import build_scheduler, remind_due  # noqa: E402
from bot.config import Settings, normalise_database_url  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Rotation, RotationMember, Turn, utcnow  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from tests.kit.fake_slack import FakeSlack  # noqa: E402

ROTATIONS = 10_000
MEMBERS = ("U_ANA", "U_BEN", "U_CAM")


def fill(db: Database, now: datetime) -> None:
    """10,000 rotations with reminders spread over the coming week, three people each."""
    with db.engine.begin() as connection:
        for table in ("outbox", "turns", "rotation_members", "rotations"):
            connection.execute(text(f"DELETE FROM {table}"))
        rows = []
        for n in range(ROTATIONS):
            meeting = now + timedelta(minutes=20 + (n * 7 * 24 * 60) // ROTATIONS)
            rows.append({"id": n + 1, "team_id": "T0001", "channel_id": f"C{n:05d}",
                         "days": "0123456", "meeting_time": "09:30", "tz_name": "Europe/Berlin",
                         "lead_minutes": 10, "paused": False, "next_meeting_at": meeting,
                         "next_meeting_date": meeting.date(),
                         "next_reminder_at": meeting - timedelta(minutes=10),
                         "created_at": now})
        connection.execute(insert(Rotation), rows)
        connection.execute(insert(RotationMember), [
            {"team_id": "T0001", "rotation_id": n + 1, "user_id": user, "joined_at": now,
             "deactivated": False} for n in range(ROTATIONS) for user in MEMBERS])


def make_due(db: Database, count: int, at: datetime, offset: int = 0) -> list[int]:
    """Move `count` rotations' reminders to `at`, their meetings ten minutes later."""
    ids = list(range(1 + offset, ROTATIONS + 1, ROTATIONS // count))[:count]
    with db.engine.begin() as connection:
        for rotation_id in ids:
            connection.execute(
                Rotation.__table__.update().where(Rotation.id == rotation_id).values(
                    next_reminder_at=at, next_meeting_at=at + timedelta(minutes=10),
                    next_meeting_date=(at + timedelta(minutes=10)).date()))
    return ids


def ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms (n={len(ordered)})")


def bench_tick(db: Database) -> None:
    now = utcnow()
    fill(db, now)
    idle = []
    for _ in range(30):
        started = time.perf_counter()
        assert remind_due(db, now) == 0
        idle.append(time.perf_counter() - started)
    print(f"tick, 10,000 rotations, none due:  {ms(idle)}")
    busy = []
    for round_ in range(5):
        at = now + timedelta(seconds=round_)
        make_due(db, 5, at, offset=round_)
        started = time.perf_counter()
        claimed = remind_due(db, at)
        busy.append(time.perf_counter() - started)
        assert claimed == 5, claimed
    print(f"tick, 10,000 rotations, 5 due:     {ms(busy)}")


def bench_delay(url: str) -> None:
    fake = FakeSlack().start()
    fake.users.update({u: {"id": u, "deleted": False, "tz": "Europe/Berlin"} for u in MEMBERS})
    arrived: dict[str, float] = {}
    post = fake.handlers["chat.postMessage"]

    def record(body: dict) -> dict:
        arrived.setdefault(body.get("channel", ""), time.time())
        return post(body)

    fake.handlers["chat.postMessage"] = record
    settings = Settings(bot_token="xoxb-bench", database_url=url, slack_api_url=fake.url)
    runtime = Runtime.create(settings)
    fill(runtime.db, utcnow())
    due_at = utcnow() + timedelta(seconds=3)
    ids = make_due(runtime.db, 10, due_at)
    runtime.worker.start()
    scheduler = build_scheduler(runtime, blocking=False)
    scheduler.start()
    channels = {f"C{i - 1:05d}" for i in ids}
    deadline = time.time() + 40
    while not channels <= set(arrived) and time.time() < deadline:
        time.sleep(0.05)
    scheduler.shutdown(wait=True)
    runtime.close()
    fake.stop()
    delays = [arrived[c] - due_at.timestamp() for c in channels if c in arrived]
    print(f"due -> chat.postMessage, 10 reminders due at once: {ms(delays)}; "
          f"{len(delays)}/{len(channels)} arrived")


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else \
        f"sqlite:///{tempfile.mkdtemp(prefix='rotation-bench-')}/bench.db"
    url = normalise_database_url(url)
    upgrade(url)
    print(f"database: {url.split('@')[-1]}  (shared machine: figures are noisy)")
    db = Database(url)
    bench_tick(db)
    db.dispose()
    bench_delay(url)
    # Turns left behind are harmless; say how many so a reader can check the claim count.
    check = Database(url)
    with check.session() as session:
        print(f"turns claimed in total: {session.query(Turn).count()}")
    check.dispose()


if __name__ == "__main__":
    main()
