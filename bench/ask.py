"""`/debrief ask TEXT`'s look back (bot.services.lookback.ask: related lessons, people,
channels, docs) at 10k and 1M entries, on SQLite and PostgreSQL. Target (issue 16): p50
<= 50 ms at 1M on both. Baseline, measured in the same run on the same data: "have we
learned this before?" as it was before people and docs (`search.related`: the three
related entries alone).

The data and its loading are bench/search_kudos.py's (a deployment's growth: more channels
and workspaces, ~1,000 entries a channel, a Zipf vocabulary; bulk-loaded with the
full-text index rebuilt after), with one entry in twenty carrying a link. What is asked:
4 to 8 words of a recent entry, as someone describes the work they are about to start.

    python bench/ask.py [--sizes 10000,1000000] [--backends sqlite,postgresql]
        [--queries 200] [--pg-url postgresql://postgres@127.0.0.1:5432/test]

The machine is shared: figures are noisy; 1M entries load in a few minutes.
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
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search_kudos import (  # noqa: E402
    fresh_database,
    generate,
    load_postgres,
    load_sqlite,
    p,
    timed,
)
from bot.db import Database  # noqa: E402
from bot.db.models import Entry  # noqa: E402
from bot.services import lookback, search  # noqa: E402


def with_links(entries: list[dict], seed: int = 3) -> None:
    """One entry in twenty points to a document, as runbooks and postmortems do."""
    rng = random.Random(seed)
    for entry in entries:
        if rng.random() < 0.05:
            entry["text"] += f" see https://wiki.example.com/runbooks/{entry['id']}"


def measure(url: str, entries: list[dict], queries: int, seed: int = 13) -> dict[str, list]:
    rng = random.Random(seed)
    database = Database(url)
    recent = entries[-len(entries) // 10:]
    results: dict[str, list[float]] = {"ask": [], "related (baseline)": []}
    named = 0
    with database.session() as db:
        for _ in range(20):  # warm the caches and the connection
            row = rng.choice(recent)
            lookback.ask(db, search.Viewer(row["team_id"], row["author_id"],
                                           row["channel_id"]), row["text"])
            db.rollback()
        for n in range(queries):
            row = rng.choice(recent)
            words = row["text"].split()
            start = rng.randrange(max(1, len(words) - 8))
            text = " ".join(words[start:start + rng.randint(4, 8)])
            viewer = search.Viewer(row["team_id"], row["author_id"], row["channel_id"])
            found: list[lookback.LookBack] = []
            lesson = Entry(id=row["id"], team_id=row["team_id"], channel_id=row["channel_id"],
                           author_id=row["author_id"], kind="lesson", text=text, tags="")
            runs: list[tuple[str, Callable[[], object]]] = [
                ("ask", partial(lambda v, t, f: f.append(lookback.ask(db, v, t)),
                                viewer, text, found)),
                ("related (baseline)", partial(search.related, db, lesson))]
            # Whichever runs second finds the same words' pages warm: take turns.
            for label, work in runs if n % 2 else runs[::-1]:
                results[label] += timed(work, 1)
                db.rollback()  # each command is its own transaction
            named += bool(found[0].people)
    database.dispose()
    print(f"    answers that named people: {named}/{queries}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pg-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"/debrief ask's look back; {args.queries} queries per line; times in ms; "
          "target: p50 <= 50 ms at 1,000,000 entries")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            for size in sizes:
                entries, applause, _vocab = generate(size)
                with_links(entries)
                url, drop = fresh_database(backend, args.pg_url, Path(tmp))
                try:
                    start = time.perf_counter()
                    (load_sqlite if backend == "sqlite" else load_postgres)(
                        url, entries, applause)
                    print(f"{backend:10} {size:>9,} entries (loaded in "
                          f"{time.perf_counter() - start:.0f} s)")
                    results = measure(url, entries, args.queries)
                finally:
                    drop()
                for label, values in results.items():
                    print(f"    {label:20} p50 {statistics.median(values):7.2f}   "
                          f"p90 {p(values, 90):7.2f}")
                ratio = statistics.median(results["ask"]) / \
                    statistics.median(results["related (baseline)"])
                print(f"    ask / related p50: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
