"""Scaling out on PostgreSQL: posts a second delivered with 1 and with 2 sending processes
on one database, and each channel's pace held, side by side in one run.

A fake Slack answers every call after `--latency` seconds (Slack's own round trip is a
tenth of a second or more), so one process's outbox worker, which sends one call at a
time, is the bottleneck the second process should relieve. Each round queues, in one
commit, `--posts` posts in each of `--channels` channels (within a channel's burst of 3
plus a little), and `--hot-posts` posts in each of 2 hot channels, where the pace (about
one a second after a burst of 3) binds however many processes send. The sending processes
are the Procfile's `clock` (an outbox worker and the scheduler, no HTTP).

Targets (issue 13): posts/s with 2 processes clearly above 1 process (toward 2x), every
post once, and no channel faster than its pace: any 4 posts in a row in one channel span
at least a second.

    python bench/scale_out.py [--postgres URL] [--channels 100] [--posts 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import postgres_schema  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.ids import OutboxAction  # noqa: E402
from bot.services import outbox  # noqa: E402
from tests.kit.fake_slack import FakeSlack  # noqa: E402
from tests.kit.processes import Process  # noqa: E402


def channels_of(round_name: str, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """A round's many channels and its 2 hot ones."""
    return ([f"C{round_name}{n:04d}" for n in range(args.channels)],
            [f"C{round_name}HOT{n}" for n in range(2)])


def queue(database: Database, round_name: str, args: argparse.Namespace) -> list[str]:
    """Queue every post of a round in one commit; their texts."""
    many, hot = channels_of(round_name, args)
    posts = [(channel, f"{channel} #{n}") for channel in many for n in range(args.posts)]
    posts += [(channel, f"{channel} #{n}") for channel in hot for n in range(args.hot_posts)]
    with database.session() as session:
        for channel, text in posts:
            outbox.enqueue(session, team_id="T0001", action=OutboxAction.NOTIFY_USER,
                           channel_id=channel, payload={"text": text})
        session.commit()
    return [text for _, text in posts]


def run_round(name: str, senders: int, database_url: str, fake: FakeSlack, work: Path,
              args: argparse.Namespace) -> dict[str, float]:
    database = Database(database_url)
    processes = [Process("clock", database_url, fake.url, work, LOG_LEVEL="WARNING").start()
                 for _ in range(senders)]
    try:
        time.sleep(3)  # every process up and idle
        start = len(fake.calls)
        started = time.monotonic()
        texts = queue(database, name, args)
        many = args.channels * args.posts
        fake.wait_until(lambda: sum(1 for c in fake.calls[start:] if c.ok) >= len(texts),
                        timeout=600, what="every post")
        calls = [c for c in fake.calls[start:] if c.method == "chat.postMessage" and c.ok]
    finally:
        for process in processes:
            process.stop()
        database.dispose()
    sent = Counter(c.body["text"] for c in calls)
    many_channels, hot_channels = channels_of(name, args)
    spread = sorted(c.at for c in calls if c.body["channel"] in set(many_channels))
    times: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        times[call.body["channel"]].append(call.at)
    spans = [later - earlier for at in times.values()
             for earlier, later in zip(at, at[3:], strict=False)]
    hot = [(len(times[c]) - 1) / (max(times[c]) - min(times[c])) for c in hot_channels]
    return {
        "senders": senders,
        "posts": len(calls),
        "once": sum(1 for t in texts if sent[t] == 1),
        "expected": len(texts),
        "many_rate": many / (spread[-1] - started),
        "hot_rate": max(hot),
        "min_span": min(spans) if spans else float("nan"),
        "too_fast": sum(1 for span in spans if span < 0.9),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", metavar="URL",
                        default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--posts", type=int, default=4)
    parser.add_argument("--hot-posts", type=int, default=12)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()

    fake = FakeSlack(latency=args.latency).start()
    database_url, drop = postgres_schema(args.postgres)
    work = Path(tempfile.mkdtemp(prefix="debrief-scale-"))
    try:
        upgrade(database_url)
        results = [run_round(f"r{senders}x", senders, database_url, fake, work, args)
                   for senders in (1, 2)]
    finally:
        fake.stop()
        drop()

    one, two = results
    print(f"scale out on PostgreSQL: {args.channels} channels x {args.posts} posts, and 2 "
          f"hot channels x {args.hot_posts}, queued at once; Slack answers in "
          f"{args.latency * 1000:.0f} ms; senders are the Procfile's clock")
    print(f"{'senders':>8} {'posts':>6} {'once':>9} {'many ch. posts/s':>17} "
          f"{'hot ch. posts/s':>16} {'min 4-post span s':>18} {'spans < 0.9 s':>14}")
    for r in results:
        print(f"{r['senders']:>8} {r['posts']:>6} {r['once']:>4}/{r['expected']:<4} "
              f"{r['many_rate']:>17.1f} {r['hot_rate']:>16.2f} {r['min_span']:>18.2f} "
              f"{r['too_fast']:>14}")
    print(f"ratio posts/s 2 senders / 1 sender: {two['many_rate'] / one['many_rate']:.2f}x "
          "(target: clearly above 1, toward 2)")
    print("pace target: each channel about 1 post/s after a burst of 3: any 4 posts in a "
          "row span >= 1 s (0 spans under 0.9 s), hot channels near 1 post/s with 2 senders "
          "as with 1; every post once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
