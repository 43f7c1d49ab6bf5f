"""A burst of entries on one card: ack latency, and how many chat.update calls it costs.

Runs the real bot over HTTP against the fake Slack (in this process), opens a card, then
submits N entries on it from 8 concurrent senders through the Debrief modal. Prints ack
p50 / p99 with and without a card, how many `chat.update` calls the burst cost and how long
until the card showed the whole burst; then the time to render an export of the entries.

    python bench/card_burst.py [--entries 200] [--senders 8] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bot.db.migrate import upgrade  # noqa: E402
from bot.services import export  # noqa: E402
from bot.views.export import render  # noqa: E402
from tests.kit.bot_server import BotServer, bot_settings  # noqa: E402
from tests.kit.fake_slack import FakeSlack  # noqa: E402
from tests.kit.slack_requests import fill  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


SENDERS = 8


def burst(bot: BotServer, view: dict, n: int, label: str, card: str | None = None) -> None:
    def submit(i: int) -> float:
        answers = {"kind": "lesson", "text": f"{label} {i}", "card": card}
        start = time.perf_counter()
        answer = bot.slack.view_submission(view, fill(view, answers))
        assert answer.status == 200
        return (time.perf_counter() - start) * 1000

    with ThreadPoolExecutor(SENDERS) as pool:
        times = list(pool.map(submit, range(n)))
    print(f"  {label:<10} ack p50 {statistics.median(times):6.1f} ms   "
          f"p99 {percentile(times, 99):6.1f} ms   ({n} submissions, {SENDERS} senders)")


def run(url: str, n: int) -> None:
    fake = FakeSlack().start()
    bot = BotServer(bot_settings(url, fake.url))
    try:
        bot.slack.command("card Bench")
        fake.wait_until(lambda: any("Bench" in c.blocks_text()
                                    for c in fake.succeeded("chat.postMessage")))
        bot.slack.command("", channel="C_PLAIN")
        plain_view = fake.wait_for("views.open")[0].body["view"]
        bot.slack.command("")
        card_view = fake.wait_for("views.open", 2)[1].body["view"]
        # Acks alone first (the sender stopped, as if Slack were slow), then the sending.
        bot.runtime.worker.stop()
        burst(bot, plain_view, n, "no card")
        burst(bot, card_view, n, "on a card", card="1")
        before = len(fake.calls_to("chat.update"))
        started = time.perf_counter()
        bot.runtime.worker.start()
        bot.runtime.worker.wake()
        fake.wait_until(lambda: any(f"{n} lessons" in c.blocks_text()
                                    for c in fake.succeeded("chat.update")), timeout=60)
        settled = time.perf_counter() - started
        updates = len(fake.calls_to("chat.update")) - before
        print(f"  chat.update calls for {n} entries on one card: {updates}; the card showed "
              f"all {n} {settled:.1f} s after the sender started")

        with bot.runtime.db.session() as session:
            start = time.perf_counter()
            rows = export.channel_entries(session, "T0001", "C_TEAM")
            data = render("csv", rows, "C_TEAM")
            took = (time.perf_counter() - start) * 1000
        print(f"  export of {len(rows)} entries: {took:.1f} ms, {len(data):,} bytes of CSV")
    finally:
        bot.stop()
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--postgres", help="a PostgreSQL URL; a scratch schema is used")
    args = parser.parse_args()
    global SENDERS
    SENDERS = args.senders
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        print("SQLite:")
        run(url, args.entries)
    if args.postgres:
        base = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}?options={quote(f'-csearch_path={schema}')}"
        try:
            upgrade(url)
            print("PostgreSQL:")
            run(url, args.entries)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
