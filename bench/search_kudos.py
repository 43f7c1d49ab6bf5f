"""Search and the kudos leaderboard at 10k, 100k and 1M entries, on SQLite and PostgreSQL.

For each backend and size: a fresh, migrated database, bulk-loaded (Core executemany on
SQLite, COPY on PostgreSQL), then `search.search` and `kudos.kudos` (what /debrief kudos
runs) timed through the services, as the commands call them. Prints p50 / p90 per size
and the largest/smallest p50 ratio. Targets (issue 6): p50 <= 20 ms at 1M; <= 3x slower at
1M than at 10k.

The data grows the way a deployment does: more channels and workspaces, not denser ones.
Each channel holds ~1,000 entries over two years (about ten a week) by ~20 people; 100
channels to a workspace. Text is 8-20 words drawn from a 4,000-word Zipf vocabulary; 80%
team, 10% org, 10% private, 10% anonymous; about one applause per entry. Queries are one
or two words a person would search for (vocabulary ranks 300-3,000: each word in roughly
0.05-0.5% of entries); `common` is a stress line with words in 3-10% of entries;
`related` is "have we learned this before?" for one of the newest entries, as a lesson.

    python bench/search_kudos.py [--sizes 10000,100000,1000000] [--backends sqlite,postgresql]
        [--queries 200] [--pg-url postgresql://postgres@127.0.0.1:5432/test]

The machine is shared: figures are noisy; each size loads in seconds to a few minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bot.db import Database, fulltext  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Applause, ChannelSettings, Entry  # noqa: E402
from bot.services import kudos, search  # noqa: E402

NOW = datetime(2026, 11, 26, tzinfo=UTC)
SPAN_DAYS = 730
PER_CHANNEL = 1000
CHANNELS_PER_TEAM = 100
PEOPLE_PER_CHANNEL = 20
VOCABULARY = 4000
TYPICAL_RANKS = (300, 3000)
COMMON_RANKS = (15, 45)

ENTRY_COLUMNS = ["id", "team_id", "channel_id", "author_id", "kind", "text", "visibility",
                 "anonymous", "source", "created_at", "message_channel_id", "message_ts",
                 "tags"]
APPLAUSE_COLUMNS = ["id", "team_id", "channel_id", "message_ts", "reactor_id", "emoji",
                    "author_id", "entry_id", "created_at"]


def words(rng: random.Random) -> list[str]:
    letters = "bcdfghjklmnprstvz"
    vowels = "aeiou"
    seen: dict[str, None] = {}
    while len(seen) < VOCABULARY:
        word = "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        seen.setdefault(word, None)
    return list(seen)


def generate(n: int, seed: int = 7) -> tuple[list[dict], list[dict], list[str]]:
    rng = random.Random(seed)
    vocab = words(rng)
    weights = [1 / rank for rank in range(1, VOCABULARY + 1)]
    cumulative = list(_accumulate(weights))
    tokens = iter(rng.choices(vocab, cum_weights=cumulative, k=n * 20))
    channels = max(1, n // PER_CHANNEL)
    entries: list[dict] = []
    applause: list[dict] = []
    for i in range(1, n + 1):
        channel = rng.randrange(channels)
        team = f"T{channel // CHANNELS_PER_TEAM:04d}"
        created = NOW - timedelta(days=SPAN_DAYS * (n - i) / n)  # ids grow with time
        body = [next(tokens) for _ in range(rng.randint(8, 20))]
        tag = [body[0]] if rng.random() < 0.3 else []
        visibility = rng.choices(["team", "org", "private"], [8, 1, 1])[0]
        ts = f"{int(created.timestamp())}.{i:06d}"
        entries.append({
            "id": i, "team_id": team, "channel_id": f"C{channel:05d}",
            "author_id": f"U{channel:05d}{rng.randrange(PEOPLE_PER_CHANNEL):02d}",
            "kind": rng.choice(["win", "opportunity", "lesson"]),
            "text": " ".join(body) + "".join(f" #{t}" for t in tag),
            "visibility": visibility, "anonymous": rng.random() < 0.1, "source": "command",
            "created_at": created,
            "message_channel_id": None if visibility == "private" else f"C{channel:05d}",
            "message_ts": None if visibility == "private" else ts, "tags": " ".join(tag),
        })
        if visibility == "private":
            continue
        for r in range(rng.choice([0, 0, 1, 1, 2, 2])):
            applause.append({
                "id": len(applause) + 1, "team_id": team, "channel_id": f"C{channel:05d}",
                "message_ts": ts, "reactor_id": f"U{channel:05d}{r:02d}x", "emoji": "clap",
                "author_id": entries[-1]["author_id"], "entry_id": i,
                "created_at": created + timedelta(hours=rng.randint(0, 72)),
            })
    return entries, applause, vocab


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


# --- loading ---

def load_sqlite(url: str, entries: list[dict], applause: list[dict]) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        # The FTS triggers off while loading, one 'rebuild' after: the same index, faster.
        # They come back exactly as the migrations made them: their SQL is read here.
        triggers = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'entries' ORDER BY name").all()
        for name, _sql in triggers:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        for chunk in _chunks(entries, 20000):
            connection.execute(insert(Entry.__table__), chunk)
        for chunk in _chunks(applause, 20000):
            connection.execute(insert(Applause.__table__), chunk)
    with engine.begin() as connection:
        # Nothing was noted in entries_fts_pending (no triggers): 'rebuild' indexes it all.
        connection.exec_driver_sql(
            f"INSERT INTO {fulltext.FTS_TABLE}({fulltext.FTS_TABLE}) VALUES ('rebuild')")
        for _name, sql in triggers:
            connection.exec_driver_sql(sql)
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def load_postgres(url: str, entries: list[dict], applause: list[dict]) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        # The GIN index off while loading, and back as the migrations made it.
        index = connection.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname = :name"), {"name": fulltext.PG_INDEX}).scalar_one()
        connection.exec_driver_sql(f"DROP INDEX {fulltext.PG_INDEX}")
        cursor = connection.connection.cursor()
        for table, columns, rows in (("entries", ENTRY_COLUMNS, entries),
                                     ("applause", APPLAUSE_COLUMNS, applause)):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([_naive(row[c]) for c in columns])
        connection.exec_driver_sql(index)
        for table in ("entries", "applause"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE entries")
        connection.exec_driver_sql("VACUUM ANALYZE applause")
    engine.dispose()


def _naive(value: object) -> object:
    # COPY skips the UTCDateTime type: the columns hold naive UTC.
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def _chunks(rows: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


# --- measuring ---

def timed(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(url: str, entries: list[dict], vocab: list[str], queries: int,
            seed: int = 11) -> dict[str, list[float]]:
    rng = random.Random(seed)
    database = Database(url)
    searchers = [(e["team_id"], e["author_id"], e["channel_id"])
                 for e in rng.sample(entries, min(len(entries), 500))]

    def pick(ranks: tuple[int, int]) -> str:
        count = 1 if rng.random() < 0.7 else 2
        return " ".join(vocab[rng.randrange(*ranks)] for _ in range(count))

    results: dict[str, list[float]] = {"search": [], "common": [], "related": [], "kudos": []}
    with database.session() as db:
        for _ in range(20):  # warm the caches and the connection
            team, user, channel = rng.choice(searchers)
            search.search(db, search.Viewer(team, user, channel), pick(TYPICAL_RANKS))
            db.rollback()
        for label, ranks in (("search", TYPICAL_RANKS), ("common", COMMON_RANKS)):
            for _ in range(queries):
                team, user, channel = rng.choice(searchers)
                query = pick(ranks)
                viewer = search.Viewer(team, user, channel)
                results[label] += timed(partial(search.search, db, viewer, query), 1)
                db.rollback()  # each command is its own transaction
        for _ in range(queries):  # "have we learned this before?" for a new lesson
            row = rng.choice(entries[-len(entries) // 10:])
            lesson = Entry(id=row["id"], team_id=row["team_id"], channel_id=row["channel_id"],
                           author_id=row["author_id"], kind="lesson", text=row["text"],
                           tags=row["tags"])
            results["related"] += timed(partial(search.related, db, lesson), 1)
            db.rollback()
        # /debrief kudos as people run it, with the per-person ranking turned on (its
        # heaviest form) in every channel the benchmark asks about.
        for team, channel in sorted({(t, c) for t, _u, c in searchers}):
            db.merge(ChannelSettings(team_id=team, channel_id=channel, leaderboard=True))
        db.commit()
        for _ in range(queries):
            team, user, channel = rng.choice(searchers)
            period = rng.choice(["week", "month", "all"])
            results["kudos"] += timed(partial(kudos.kudos, db, team, channel, user, period), 1)
            db.rollback()
    database.dispose()
    return results


def fresh_database(backend: str, pg_url: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
        url = f"sqlite:///{path}"

        def drop() -> None:
            for suffix in ("", "-wal", "-shm", "-writer.lock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        upgrade(url)
        return url, drop
    base = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}?options={quote(f'-csearch_path={schema}')}"
    upgrade(url)

    def drop_schema() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url, drop_schema


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] \
        if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pg-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"search pool {search.POOL}; {args.queries} queries per line; times in ms")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            p50s: dict[str, dict[int, float]] = {}
            for size in sizes:
                entries, applause, vocab = generate(size)
                url, drop = fresh_database(backend, args.pg_url, Path(tmp))
                try:
                    start = time.perf_counter()
                    (load_sqlite if backend == "sqlite" else load_postgres)(
                        url, entries, applause)
                    loaded = time.perf_counter() - start
                    results = measure(url, entries, vocab, args.queries)
                finally:
                    drop()
                print(f"{backend:10} {size:>9,} entries {len(applause):>9,} applause "
                      f"(loaded in {loaded:.0f} s)")
                for label, values in results.items():
                    p50s.setdefault(label, {})[size] = statistics.median(values)
                    print(f"    {label:7} p50 {statistics.median(values):7.2f}   "
                          f"p90 {p(values, 90):7.2f}")
            if len(sizes) > 1:
                small, large = min(sizes), max(sizes)
                for label, by_size in p50s.items():
                    print(f"{backend:10} {label:7} p50 ratio {large:,}/{small:,}: "
                          f"{by_size[large] / by_size[small]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
