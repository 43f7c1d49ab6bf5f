"""Acknowledgement latency of the HOPE paths: `/hope history` (a page of 10 out of many
reflections) and submitting a reflection, against the bot in-process (werkzeug, SQLite).

Indicative only: the in-process server is not the Procfile's gunicorn, and the machine
is shared. Slack's limit is 3 s; the aim is to stay in the low milliseconds.

    python bench/hope_latency.py [--requests 200] [--reflections 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.db import Database  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Reflection  # noqa: E402
from bot.services.reflections import DEFAULT_PROMPTS  # noqa: E402
from bot.views.hope import reflection_modal  # noqa: E402
from tests.kit.bot_server import BotServer, bot_settings  # noqa: E402
from tests.kit.fake_slack import FakeSlack  # noqa: E402
from tests.kit.slack_requests import fill  # noqa: E402


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<28} n={len(samples):<5} p50={statistics.median(ordered) * 1000:6.2f} ms"
          f"  p99={p99 * 1000:6.2f} ms")


def timed(send, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        answer = send()
        samples.append(time.perf_counter() - start)
        assert answer.status == 200
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reflections", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        with db.session() as session:
            for n in range(args.reflections):
                session.add(Reflection(team_id="T0001", author_id="U_ALICE",
                                       prompts=list(DEFAULT_PROMPTS),
                                       answers=[f"answer {n} " * 20] * 4))
            session.commit()
        fake = FakeSlack().start()
        bot = BotServer(bot_settings(url, fake.url))
        try:
            view = reflection_modal(list(DEFAULT_PROMPTS)).to_dict()
            values = fill(view, {f"hope_answer_{n}": "a thought " * 50 for n in range(1, 5)})
            timed(lambda: bot.slack.command("history", command="/hope"), 20)  # warm up
            print(f"{args.reflections} reflections stored")
            report("/hope history", timed(
                lambda: bot.slack.command("history", command="/hope"), args.requests))
            report("submit a reflection", timed(
                lambda: bot.slack.view_submission(view, values), args.requests))
        finally:
            bot.stop()
            fake.stop()
            db.dispose()


if __name__ == "__main__":
    main()
