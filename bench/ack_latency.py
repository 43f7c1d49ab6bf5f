"""Acknowledgement latency of /debrief win under gunicorn, against a bare Bolt app.

Starts a fake Slack, then each app under the Procfile's own gunicorn command, sends
really signed `/debrief win …` commands from 1 and from 8 concurrent senders, and prints
p50 / p99 for each. Two baselines: a bare Bolt app that only acks, and the floor for a
durable ack, a bare Bolt app that stores the text with one raw INSERT and COMMIT before
acking (bench/bare_app.py). Targets (issue 11): our p50 at 1 sender within 1.3x of that
floor; our p99 under 25 ms at 8 senders.

    python bench/ack_latency.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
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


def measure(port: int, senders: int, total: int) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    per = total // senders
    threads = [threading.Thread(target=sender, args=(port, per, 10_000_000 * (i + 1) + total,
                                                     latencies, errors))
               for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--postgres", metavar="URL",
                        help="measure on PostgreSQL (a fresh schema in URL) instead of SQLite")
    args = parser.parse_args()

    fake = subprocess.Popen([sys.executable, "-m", "tests.kit.fake_slack"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None  # piped
    slack_url = fake.stdout.readline().strip()
    work = Path(tempfile.mkdtemp(prefix="debrief-bench-"))
    database_url, drop = f"sqlite:///{work / 'bench.db'}", lambda: None
    if args.postgres:
        database_url, drop = postgres_schema(args.postgres)
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": slack_url, "DATABASE_URL": database_url,
           "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    env.pop("SLACK_APP_TOKEN", None)
    subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=work, env=env, check=True)

    apps = {"bare": "bench.bare_app:create_app()",
            "floor": "bench.bare_app:create_storing_app()",
            "debrief": "bot.web:create_app()"}
    results: dict[str, dict[int, tuple[float, float, float]]] = {}
    try:
        for name, target in apps.items():
            port = free_port()
            server = subprocess.Popen(procfile_web(port, target), cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_until_up(port)
                measure(port, 4, 400)  # warm up every worker and thread
                results[name] = {}
                for senders in (1, 8):
                    meter = CpuMeter(server)
                    meter.start()
                    latencies, errors = measure(port, senders, args.requests)
                    cpu = meter.stop()["app"] / args.requests * 1000
                    if errors:
                        raise SystemExit(f"{name}: {len(errors)} failed requests: {errors[:5]}")
                    results[name][senders] = (pct(latencies, 50), pct(latencies, 99), cpu)
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        fake.terminate()
        drop()

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
