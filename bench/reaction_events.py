"""Reaction events per second under gunicorn, with the final applause counted exactly.

Starts a fake Slack and the app under the Procfile's own gunicorn command (as
bench/ack_latency.py does), seeds entries whose messages carry applause, then replays a
stream of really signed `reaction_added` / `reaction_removed` events from concurrent
senders: 10% of deliveries are duplicates (the same event_id again, as Slack's retries),
some reactions are taken back, some are people applauding themselves, some land on
messages that carry nothing. With `process_before_response` every 200 follows the
commit, so an acknowledged event is a persisted one. At the end the applause table must
hold exactly the expected rows. Runs on SQLite and, when a URL is given (or
TEST_DATABASE_URL is set), on PostgreSQL in a fresh schema. Two baselines in the same
run: a bare Bolt app that only acks, and a "floor" that stores each event's id with one
raw INSERT and COMMIT on the same database before acking (bench/bare_app.py). Target
(issue 11): on PostgreSQL, at least 75% of the bare app's rate.

    python bench/reaction_events.py [--events 6000] [--senders 8] [--rounds 1]
                                    [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.harness import (  # noqa: E402
    CpuMeter,
    SlackConnection,
    free_port,
    postgres_schema,
    procfile_web,
    wait_until_up,
)
from bot.db import Database  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Applause, Entry, ProcessedEvent  # noqa: E402
from tests.kit.slack_requests import SIGNING_SECRET  # noqa: E402

TEAM = "T0001"
ENTRIES = 200
PEOPLE = 40
EMOJI = ["tada", "clap", "+1", "heart", "raised_hands", "rocket"]


@dataclass(frozen=True)
class Delivery:
    event_id: str
    body: str
    retry: int | None


def envelope(event_id: str, event: dict) -> str:
    return json.dumps({
        "token": "t", "team_id": TEAM, "api_app_id": "A0001", "event": event,
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": "UBOT0001",
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    })


def reaction(kind: str, user: str, channel: str, ts: str, emoji: str) -> dict:
    return {"type": kind, "user": user, "reaction": emoji, "item_user": "UBOT0001",
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"{time.time():.6f}"}


def entry_message(n: int) -> tuple[str, str, str]:
    """(author, channel, ts) of the n-th seeded entry."""
    return f"U{n % 20:04d}", f"C{n % 10:03d}", f"1700000000.{n:06d}"


def stream(total: int, seed: int = 7) -> tuple[list[list[Delivery]], int, int]:
    """Two phases of deliveries (adds, then removals of some of them), the number of
    applause rows expected at the end, and the number of distinct event ids."""
    rng = random.Random(seed)
    unique_adds = int(total * 0.9 * 0.8)
    unique_removes = int(total * 0.9) - unique_adds
    keys: dict[tuple[int, str, str], None] = {}
    while len(keys) < unique_adds:
        keys.setdefault((rng.randrange(ENTRIES + ENTRIES // 20), f"U{rng.randrange(PEOPLE):04d}",
                         rng.choice(EMOJI)), None)
    adds = list(keys)
    removed = rng.sample(adds, unique_removes)
    counted = set()
    for n, user, emoji in adds:
        carried = n < ENTRIES  # the others are messages Debrief never posted
        if carried and entry_message(n)[0] != user:
            counted.add((n, user, emoji))
    expected = len(counted - set(removed))

    ids = iter(range(1, 10**9))

    def deliveries(kind: str, items: list[tuple[int, str, str]]) -> list[Delivery]:
        out = []
        for n, user, emoji in items:
            _author, channel, ts = entry_message(n)
            event_id = f"Ev{seed:03d}{next(ids):08d}"
            out.append(Delivery(event_id, envelope(event_id, reaction(kind, user, channel, ts,
                                                                      emoji)), None))
        for first in rng.sample(out, len(out) // 9):  # 10% of all deliveries: duplicates
            out.append(Delivery(first.event_id, first.body, rng.choice([None, 1, 2])))
        rng.shuffle(out)
        return out

    phases = [deliveries("reaction_added", adds), deliveries("reaction_removed", removed)]
    return phases, expected, unique_adds + unique_removes


def send(port: int, work: list[Delivery], errors: list[str]) -> None:
    connection = SlackConnection(port)
    for delivery in work:
        retry = {} if delivery.retry is None else {
            "X-Slack-Retry-Num": str(delivery.retry), "X-Slack-Retry-Reason": "http_timeout"}
        status = connection.post(delivery.body,
                                 connection.signed(delivery.body, "application/json", **retry))
        if status != 200:
            errors.append(str(status))
    connection.close()


def replay(port: int, phases: list[list[Delivery]], senders: int) -> tuple[float, list[str]]:
    errors: list[str] = []
    start = time.perf_counter()
    for phase in phases:  # removals only after every add was acknowledged
        threads = [threading.Thread(target=send, args=(port, phase[i::senders], errors))
                   for i in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return time.perf_counter() - start, errors


def seed(url: str) -> None:
    database = Database(url)
    with database.session() as session:
        for n in range(ENTRIES):
            author, channel, ts = entry_message(n)
            session.add(Entry(team_id=TEAM, channel_id=channel, author_id=author, kind="win",
                              text=f"bench win {n}", visibility="team",
                              message_channel_id=channel, message_ts=ts))
        session.commit()
    database.dispose()


def counts(url: str) -> tuple[int, int]:
    database = Database(url)
    with database.session() as session:
        applause = session.scalar(select(func.count()).select_from(Applause)) or 0
        events = session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0
    database.dispose()
    return applause, events


def run(name: str, url: str, slack_url: str, args: argparse.Namespace) -> dict:
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_url,
           "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    env.pop("SLACK_APP_TOKEN", None)
    subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    seed(url)
    phases, expected, unique = stream(args.events)
    warm, _, _ = stream(200, seed=99)  # warm-up on other (unrelated) messages
    warm = [[d for d in phase if '"ts": "1700000000.0002' in d.body] for phase in warm]
    port = free_port()
    server = subprocess.Popen(procfile_web(port, "bot.web:create_app()"), cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(port)
        replay(port, warm, args.senders)
        before_applause, before_events = counts(url)
        meter = CpuMeter(server, postgres=name == "postgresql")
        meter.start()
        elapsed, errors = replay(port, phases, args.senders)
        cpu = meter.stop()
    finally:
        server.terminate()
        server.wait(timeout=30)
    applause, events = counts(url)
    deliveries = sum(len(p) for p in phases)
    return {"name": name, "deliveries": deliveries, "unique": unique, "elapsed": elapsed,
            "app_cpu": cpu["app"] / deliveries * 1000,
            "db_cpu": cpu.get("postgres", 0.0) / deliveries * 1000,
            "errors": errors, "applause": applause - before_applause, "expected": expected,
            "events": events - before_events}


def bare_baseline(slack_url: str, args: argparse.Namespace,
                  database_url: str | None = None) -> tuple[float, float]:
    """Events a second for a bare Bolt app served the same way: one that only acks (the
    ceiling this machine allows right now; it is shared, so figures move), or with
    `database_url`, one that stores each event's id before acking (the floor)."""
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_url,
           "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url or ""}
    phases, _, _ = stream(args.events)
    port = free_port()
    app = "create_storing_app()" if database_url else "create_app()"
    server = subprocess.Popen(procfile_web(port, f"bench.bare_app:{app}"), cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(port)
        replay(port, [phases[0][:200]], args.senders)
        meter = CpuMeter(server)
        meter.start()
        elapsed, errors = replay(port, phases, args.senders)
        cpu = meter.stop()["app"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    if errors:
        raise SystemExit(f"bare app: {len(errors)} failed deliveries")
    deliveries = sum(len(p) for p in phases)
    return deliveries / elapsed, cpu / deliveries * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the whole comparison; the median is printed too")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()

    fake = subprocess.Popen([sys.executable, "-m", "tests.kit.fake_slack"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None  # piped
    slack_url = fake.stdout.readline().strip()
    rounds: list[tuple[list[dict], float, float, float | None]] = []
    try:
        for _ in range(args.rounds):
            results = []
            bare, bare_cpu = bare_baseline(slack_url, args)
            floor = None
            if args.postgres and args.only != "sqlite":
                url, drop = postgres_schema(args.postgres)
                try:
                    upgrade(url)
                    floor, _ = bare_baseline(slack_url, args, url)
                finally:
                    drop()
            if args.only != "postgresql":
                work = Path(tempfile.mkdtemp(prefix="debrief-bench-"))
                results.append(run("sqlite", f"sqlite:///{work / 'bench.db'}", slack_url, args))
            if args.postgres and args.only != "sqlite":
                url, drop = postgres_schema(args.postgres)
                try:
                    results.append(run("postgresql", url, slack_url, args))
                finally:
                    drop()
            rounds.append((results, bare, bare_cpu, floor))
    finally:
        fake.terminate()
        fake.wait(timeout=10)

    print(f"reaction events under gunicorn (Procfile web), {args.senders} senders; "
          "10% duplicate deliveries, ~20% removals")
    print(f"{'database':>10} {'deliveries':>10} {'acked/s':>9} {'unique/s':>9} "
          f"{'applause':>9} {'expected':>9} {'events':>7} {'exact':>6} {'app cpu':>8} "
          f"{'db cpu':>7}")
    ok = True
    rates: dict[str, list[float]] = {}
    for number, (results, bare, bare_cpu, floor) in enumerate(rounds, 1):
        if args.rounds > 1:
            print(f"round {number}")
        for r in results:
            exact = (not r["errors"] and r["applause"] == r["expected"]
                     and r["events"] == r["unique"])
            ok &= exact
            rates.setdefault(r["name"], []).append(r["deliveries"] / r["elapsed"])
            print(f"{r['name']:>10} {r['deliveries']:>10} {r['deliveries'] / r['elapsed']:>9.0f} "
                  f"{r['unique'] / r['elapsed']:>9.0f} {r['applause']:>9} {r['expected']:>9} "
                  f"{r['events']:>7} {'yes' if exact else 'NO':>6} {r['app_cpu']:>8.2f} "
                  f"{r['db_cpu']:>7.2f}")
            if r["errors"]:
                print(f"  {len(r['errors'])} failed deliveries: {r['errors'][:5]}")
        rates.setdefault("bare Bolt", []).append(bare)
        print(f"{'bare Bolt':>10} {'(no DB)':>10} {bare:>9.0f} {'':>9} {'':>9} {'':>9} {'':>7} "
              f"{'':>6} {bare_cpu:>8.2f}   <- an app that only acks, same server, same moment")
        if floor is not None:
            rates.setdefault("floor", []).append(floor)
            print(f"{'floor':>10} {'(PG)':>10} {floor:>9.0f}   <- a bare app that stores the "
                  "event id (raw INSERT, COMMIT) before acking")
        for r in results:
            if r["name"] == "postgresql":
                ours = r["deliveries"] / r["elapsed"]
                print(f"  postgresql / bare: {ours / bare:.0%} (target >= 75%)"
                      + (f"; / floor: {ours / floor:.0%}" if floor else ""))
    if args.rounds > 1:
        print("median acked/s over the rounds: " + ", ".join(
            f"{name} {statistics.median(values):.0f} (lowest {min(values):.0f})"
            for name, values in rates.items()))
    print("acked/s: deliveries answered 200 a second; each answer follows its commit, so "
          "they are persisted too.\nunique/s: distinct events with their effect stored a "
          "second. Target on PostgreSQL: >= 1,000/s.\napp cpu / db cpu: milliseconds of CPU per "
          "delivery used by the server's workers / by the local PostgreSQL (steadier than "
          "rates on a shared machine).")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
