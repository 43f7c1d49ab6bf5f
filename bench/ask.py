"""`/debrief ask TEXT` after its ack, Slack calls apart, at 10k and 1M entries, on SQLite
and PostgreSQL: what `bot.listeners.lookback.answer` does before it posts to the
response_url (SQLite's pending index, a session, `lookback.ask`: related lessons, people,
channels, docs; and `ask_answer`, the blocks). Target (issue 16): p50 <= 50 ms at 1M on
both; p50 and p95 are printed beside it. Baseline, measured in the same run on the same
data: "have we learned this before?" as it was before people and docs (`search.related`:
the three related entries alone).

Each asker reads what Slack would say they may: MEMBERSHIPS channels of their workspace
(their own and others picked at random; a quarter of them private ones the bot is in,
which users.conversations lists alike, so the look back reads their team entries alike),
as the directory hands them over (bot/directory.py), not one channel alone.

The data and its loading are bench/search_kudos.py's (a deployment's growth: more channels
and workspaces, ~1,000 entries a channel, a Zipf vocabulary; bulk-loaded with the
full-text index rebuilt after), with one entry in twenty carrying a link. What is asked:
4 to 8 words of a recent entry, as someone describes the work they are about to start.

    python bench/ask.py [--sizes 10000,1000000] [--backends sqlite,postgresql]
        [--queries 200] [--pg-url postgresql://postgres@127.0.0.1:5432/test]

Check it small (`--sizes 10000`) on a shared machine: 1M takes minutes to load.

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
    CHANNELS_PER_TEAM,
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
from bot.views.lookback import ask_answer  # noqa: E402

MEMBERSHIPS = 20  # channels an asker is in (fewer when the workspace has fewer)
TARGET_MS = 50.0


def with_links(entries: list[dict], seed: int = 3) -> None:
    """One entry in twenty points to a document, as runbooks and postmortems do."""
    rng = random.Random(seed)
    for entry in entries:
        if rng.random() < 0.05:
            entry["text"] += f" see https://wiki.example.com/runbooks/{entry['id']}"


def team_channels(entries: list[dict]) -> dict[str, list[str]]:
    """Each workspace's channels, in order."""
    found: dict[str, set[str]] = {}
    for entry in entries:
        found.setdefault(entry["team_id"], set()).add(entry["channel_id"])
    return {team: sorted(channels) for team, channels in found.items()}


def viewer_for(row: dict, channels: dict[str, list[str]],
               rng: random.Random) -> search.Viewer:
    """The asker as the directory describes them: a member of MEMBERSHIPS channels of
    their workspace, their own among them (which of them are private changes nothing
    the database sees: Slack lists both kinds)."""
    others = [c for c in channels[row["team_id"]] if c != row["channel_id"]]
    picked = rng.sample(others, min(len(others), MEMBERSHIPS - 1))
    return search.Viewer(row["team_id"], row["author_id"], row["channel_id"],
                         channels=frozenset([row["channel_id"], *picked]), guest=False)


def after_the_ack(database: Database, viewer: search.Viewer,
                  text: str) -> tuple[lookback.LookBack, dict]:
    """bot.listeners.lookback.answer without its Slack call: what it found, and the
    message it would post."""
    database.index_pending()
    with database.session() as db:
        found = lookback.ask(db, viewer, text)
        return found, ask_answer(found, text, viewer.user_id, viewer.team_id)


def measure(url: str, entries: list[dict], queries: int, seed: int = 13) -> dict[str, list]:
    rng = random.Random(seed)
    database = Database(url)
    recent = entries[-len(entries) // 10:]
    channels = team_channels(entries)
    results: dict[str, list[float]] = {"ask after the ack": [], "related (baseline)": []}
    named, seen = 0, []
    for _ in range(20):  # warm the caches and the connection
        row = rng.choice(recent)
        after_the_ack(database, viewer_for(row, channels, rng), row["text"])
    with database.session() as db:
        for n in range(queries):
            row = rng.choice(recent)
            words = row["text"].split()
            start = rng.randrange(max(1, len(words) - 8))
            text = " ".join(words[start:start + rng.randint(4, 8)])
            viewer = viewer_for(row, channels, rng)
            seen.append(len(viewer.channels or ()))
            found: list[tuple[lookback.LookBack, dict]] = []
            lesson = Entry(id=row["id"], team_id=row["team_id"], channel_id=row["channel_id"],
                           author_id=row["author_id"], kind="lesson", text=text, tags="")
            runs: list[tuple[str, Callable[[], object]]] = [
                ("ask after the ack", partial(lambda v, t, f: f.append(
                    after_the_ack(database, v, t)), viewer, text, found)),
                ("related (baseline)", partial(search.related, db, lesson))]
            # Whichever runs second finds the same words' pages warm: take turns.
            for label, work in runs if n % 2 else runs[::-1]:
                results[label] += timed(work, 1)
                db.rollback()  # each command is its own transaction
            named += bool(found[0][0].people)
    database.dispose()
    print(f"    channels each asker is in: {min(seen)} to {max(seen)} "
          f"(of {CHANNELS_PER_TEAM} at most a workspace); answers that named people: "
          f"{named}/{queries}")
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
    print(f"/debrief ask after the ack (Slack calls apart); {args.queries} queries per "
          f"line; times in ms; target: p50 <= {TARGET_MS:.0f} ms at 1,000,000 entries")
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
                          f"p95 {p(values, 95):7.2f}")
                median = statistics.median(results["ask after the ack"])
                ratio = median / statistics.median(results["related (baseline)"])
                print(f"    ask p50 {median:.2f} ms against the {TARGET_MS:.0f} ms target: "
                      f"{'within' if median <= TARGET_MS else 'OVER'}; "
                      f"ask / related p50: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
