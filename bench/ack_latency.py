"""Acknowledgement latency of /debrief win under gunicorn, against a bare Bolt app.

Starts a fake Slack, then each app under the Procfile's own gunicorn command, sends
really signed `/debrief win …` commands from 1 and from 8 concurrent senders, and prints
p50 / p99 for each. Two baselines: a bare Bolt app that only acks, and the floor for a
durable ack, a bare Bolt app that stores the text with one raw INSERT and COMMIT before
acking (bench/bare_app.py). Targets (issue 11): our p50 at 1 sender within 1.3x of that
floor; our p99 under 25 ms at 8 senders.

The apps take turns, `--rounds` times, each sending its share of the requests while the
others are paused (SIGSTOP: an idle app's outbox worker takes no CPU from the one being
measured): a shared machine that slows down for a while slows every app alike, so the
ratios hold where a run of one app after the other would compare different moments.

    python bench/ack_latency.py [--requests 6000] [--rounds 15] [--postgres URL]

A p99 of 2,000 requests is their 20th slowest, and moved by several milliseconds from one
run to the next on a shared machine; the defaults take 6,000 in 15 turns (about a minute
a database).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    CpuMeter,
    SlackConnection,
    free_port,
    postgres_schema,
    procfile_web,
    wait_until_up,
)
from tests.kit.slack_requests import SIGNING_SECRET  # noqa: E402


def command_body(n: int) -> str:
    return urlencode({
        "token": "t", "team_id": "T0001", "team_domain": "bench", "channel_id": "C_BENCH",
        "channel_name": "bench", "user_id": f"U{n % 50:04d}", "user_name": "bench",
        "command": "/debrief", "text": f"win benchmark entry {n} #bench",
        "api_app_id": "A0001", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/x", "trigger_id": f"{n}.t",
    })


def sender(port: int, count: int, offset: int, out: list[float], errors: list[str]) -> None:
    connection = SlackConnection(port)
    for n in range(offset, offset + count):
        body = command_body(n)
        headers = connection.signed(body, "application/x-www-form-urlencoded")
        connection.ready()
        start = time.perf_counter()
        status = connection.post(body, headers)
        out.append(time.perf_counter() - start)
        if status != 200:
            errors.append(str(status))
    connection.close()


def measure(port: int, senders: int, total: int,
            start: int = 0) -> tuple[list[float], list[str]]:
    """`total` commands from `senders` at once; `start`: the first request's number."""
    latencies: list[float] = []
    errors: list[str] = []
    per = total // senders
    threads = [threading.Thread(target=sender, args=(port, per, 10_000_000 * (i + 1) + start,
                                                     latencies, errors))
               for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


# After the others are paused, the app measured first catches up on what fell due while
# it was paused itself (its outbox worker's timers), so that the round counts only what
# it does at its own pace.
SETTLE_SECONDS = 0.5


@contextmanager
def alone(server: subprocess.Popen, servers: list[subprocess.Popen]) -> Iterator[None]:
    """`server` runs, settled (SETTLE_SECONDS), while every other one of `servers`
    (gunicorn and its workers) is paused."""
    # gunicorn's master first, so it never finds its workers silent; back in reverse.
    paused = [pid for other in servers if other is not server
              for pid in [other.pid, *map(int, _children(other.pid))]]
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(SETTLE_SECONDS)
        yield
    finally:
        for pid in reversed(paused):
            os.kill(pid, signal.SIGCONT)


def _children(pid: int) -> list[str]:
    return subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                          text=True).stdout.split()


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=15,
                        help="turns each app takes, each with its share of the requests")
    parser.add_argument("--postgres", metavar="URL",
                        help="measure on PostgreSQL (a fresh schema in URL) instead of SQLite")
    args = parser.parse_args()

    fake = subprocess.Popen([sys.executable, "-m", "tests.kit.fake_slack"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None  # piped
    slack_url = fake.stdout.readline().strip()
    work = Path(tempfile.mkdtemp(prefix="debrief-bench-"))
    apps = {"bare": "bench.bare_app:create_app()",
            "floor": "bench.bare_app:create_storing_app()",
            "debrief": "bot.web:create_app()"}
    servers: dict[str, tuple[int, subprocess.Popen]] = {}
    latencies: dict[tuple[str, int], list[float]] = {
        (name, senders): [] for name in apps for senders in (1, 8)}
    cpu_seconds = {key: 0.0 for key in latencies}
    drops: list[Callable[[], None]] = []
    try:
        for name, target in apps.items():
            # A database each: a paused app may hold its database's lock.
            database_url = f"sqlite:///{work / f'{name}.db'}"
            if args.postgres:
                database_url, drop = postgres_schema(args.postgres)
                drops.append(drop)
            env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench",
                   "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_url,
                   "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
            env.pop("SLACK_APP_TOKEN", None)
            subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=work, env=env,
                           check=True)
            port = free_port()
            servers[name] = port, subprocess.Popen(
                procfile_web(port, target), cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_until_up(port)
            measure(port, 4, 400)  # warm up every worker and thread
        for _ in range(args.rounds):
            for name, (port, server) in servers.items():
                with alone(server, [other for _, other in servers.values()]):
                    for senders in (1, 8):
                        meter = CpuMeter(server)
                        meter.start()
                        taken, errors = measure(port, senders, args.requests // args.rounds,
                                                start=len(latencies[name, senders]))
                        cpu_seconds[name, senders] += meter.stop()["app"]
                        if errors:
                            raise SystemExit(f"{name}: {len(errors)} failed requests: "
                                             f"{errors[:5]}")
                        latencies[name, senders] += taken
    finally:
        for _, server in servers.values():
            server.terminate()
            server.wait(timeout=30)
        fake.terminate()
        for drop in drops:
            drop()
    results = {name: {senders: (pct(latencies[name, senders], 50),
                                pct(latencies[name, senders], 99),
                                cpu_seconds[name, senders] / len(latencies[name, senders])
                                * 1000)
                      for senders in (1, 8)} for name in apps}

    print(f"ack latency, {args.requests} signed '/debrief win' commands per run "
          f"(gunicorn as in Procfile, {'PostgreSQL' if args.postgres else 'SQLite'})")
    print(f"{'senders':>8} {'app':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/req':>11}")
    for senders in (1, 8):
        for name in apps:
            p50, p99, cpu = results[name][senders]
            print(f"{senders:>8} {name:>8} {p50:>8.2f} {p99:>8.2f} {cpu:>11.2f}")
        for base in ("bare", "floor"):
            ratio = results["debrief"][senders][0] / results[base][senders][0]
            target = "; target <= 1.3 at 1 sender" if base == "floor" else ""
            print(f"{senders:>8} {'ratio':>8} {ratio:>8.2f}x (p50 debrief / {base}{target})")
    print(f"debrief p99 at 8 senders: {results['debrief'][8][1]:.2f} ms (target < 25)")
    print("cpu ms/req: CPU the server's worker processes used per request (the database's "
          "own processes not included), steadier than the clock on a shared machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
