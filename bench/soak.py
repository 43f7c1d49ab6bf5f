"""A soak: steady mixed traffic against the Procfile's web on PostgreSQL, with a Slack that
fails 5% of calls with a 5xx and 1% with a 429, and one PostgreSQL restart in the middle.

Traffic, at `--rate` requests a second from 30 people in 20 channels: /debrief win, lesson
and opp commands, Debrief modal submissions, /debrief (opens the modal), reactions on
posted entries (a tenth delivered twice, as Slack retries do), App Home opens and
searches. An event answered with a 5xx is delivered again, as Slack does (after 1, 10 and
30 s here). The restart: a TCP proxy of ours between the app and PostgreSQL drops every
connection and refuses new ones for `--outage` seconds (other engineers' tests use the
same PostgreSQL, so the cluster itself is left alone).

Printed: requests, non-2xx acks (inside and outside the restart window), p50/p99 ack (in
all, by kind of request, and by sixths of the run), entries stored vs posted (lost,
doubled), RSS of each web worker at the start (after a warm-up) and at the end. Targets
(issue 13): 0 lost, 0 doubled, no 5xx outside the restart window, RSS growth under 10%
over 10 minutes, each web worker under 100 MB.

    python bench/soak.py --minutes 10 [--rate 10] [--postgres URL]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import random
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.harness import postgres_schema  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Entry, OutboxMessage, OutboxStatus  # noqa: E402
from bot.views.entries import entry_modal  # noqa: E402
from tests.kit.fake_slack import FakeSlack  # noqa: E402
from tests.kit.processes import Process  # noqa: E402
from tests.kit.slack_requests import Response, fill, reaction  # noqa: E402

PEOPLE = [f"U{n:04d}" for n in range(30)]
CHANNELS = [f"C{n:04d}" for n in range(20)]
EVENT_RETRIES = (1.0, 10.0, 30.0)
MARKER = re.compile(r"soak-\d{6}")


class Proxy:
    """A TCP proxy to PostgreSQL that can be cut: every connection dropped, new ones
    refused, for a while, as a restart of the server looks to its clients."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            if self.down.is_set():
                client.close()  # the server is not there
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, sink)

    def _drop(self, *sockets: socket.socket) -> None:
        for s in sockets:
            with self._lock:
                self._open.discard(s)
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self, seconds: float) -> None:
        self.down.set()
        with self._lock:
            dropped = list(self._open)
        self._drop(*dropped)
        time.sleep(seconds)
        self.down.clear()


@dataclass
class Ack:
    kind: str
    at: float
    status: int
    seconds: float


@dataclass
class Soak:
    web: Process
    fake: FakeSlack
    acks: list[Ack] = field(default_factory=list)
    saved: set[str] = field(default_factory=set)  # markers the person was told were saved
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    retries: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="retry"))

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.acks.append(Ack(kind, time.monotonic(), status, seconds))

    def timed(self, kind: str, send: Callable[[], Response]) -> Response | None:
        started = time.perf_counter()
        try:
            answer = send()
            status = answer.status
        except OSError:
            answer, status = None, 599  # no answer at all
        self.record(kind, status, time.perf_counter() - started)
        return answer

    # --- the mix ---

    def command(self, rng: random.Random) -> None:
        n = next(self.counter)
        word = rng.choice(["win", "lesson", "opp"])
        marker = f"soak-{n:06d}"
        answer = self.timed("command", lambda: self.web.slack.command(
            f"{word} {marker} steady traffic #soak", user=rng.choice(PEOPLE),
            channel=rng.choice(CHANNELS)))
        if answer is not None and "Saved your" in answer.text:
            with self.lock:
                self.saved.add(marker)

    def modal(self, rng: random.Random) -> None:
        n = next(self.counter)
        marker = f"soak-{n:06d}"
        view = entry_modal(rng.choice(CHANNELS)).to_dict()
        values = fill(view, {"kind": rng.choice(["win", "lesson", "opportunity"]),
                             "text": f"{marker} written in the form", "anonymous": []})
        answer = self.timed("modal", lambda: self.web.slack.view_submission(
            view, values, user=rng.choice(PEOPLE)))
        if answer is not None and answer.status == 200 and b"errors" not in answer.body:
            with self.lock:
                self.saved.add(marker)

    def open_modal(self, rng: random.Random) -> None:
        self.timed("command", lambda: self.web.slack.command(
            "", user=rng.choice(PEOPLE), channel=rng.choice(CHANNELS)))

    def search(self, rng: random.Random) -> None:
        self.timed("search", lambda: self.web.slack.command(
            f"search {rng.choice(['steady', 'form', 'soak', 'traffic'])}",
            user=rng.choice(PEOPLE), channel=rng.choice(CHANNELS)))

    def react(self, rng: random.Random) -> None:
        posts = [c for c in self.fake.succeeded("chat.postMessage")[-200:]
                 if str(c.body.get("channel", "")).startswith("C") and "ts" in c.response]
        if not posts:
            return self.command(rng)
        post = rng.choice(posts)
        event = reaction("reaction_added", user=rng.choice(PEOPLE),
                         channel=post.body["channel"], ts=post.response["ts"],
                         emoji=rng.choice(["tada", "clap", "heart"]))
        event_id = f"EvSoak{next(self.counter):08d}"
        self.event(event, event_id)
        if rng.random() < 0.1:  # delivered twice
            self.event(event, event_id, retry_num=1)
        return None

    def home(self, rng: random.Random) -> None:
        event = {"type": "app_home_opened", "user": rng.choice(PEOPLE), "tab": "home",
                 "channel": "D0001", "event_ts": f"{time.time():.6f}"}
        self.event(event, f"EvSoak{next(self.counter):08d}")

    def event(self, event: dict, event_id: str, retry_num: int | None = None,
              attempt: int = 0) -> None:
        answer = self.timed("event", lambda: self.web.slack.event(
            event, event_id=event_id, retry_num=retry_num))
        if (answer is None or answer.status >= 500) and attempt < len(EVENT_RETRIES):
            # Slack delivers a failed event again, later, with the same event_id.
            def again() -> None:
                time.sleep(EVENT_RETRIES[attempt])
                self.event(event, event_id, attempt + 1, attempt + 1)
            self.retries.submit(again)


MIX = [("command", 0.35), ("modal", 0.10), ("open_modal", 0.05), ("react", 0.30),
       ("home", 0.05), ("search", 0.15)]


def drive(soak: Soak, rate: float, seconds: float, seed: int) -> None:
    """Send at a steady `rate` for `seconds`: each request at its time, whatever the
    answers take (a pool of senders)."""
    rng = random.Random(seed)
    names, weights = zip(*MIX, strict=True)
    started = time.monotonic()
    with ThreadPoolExecutor(24, thread_name_prefix="sender") as pool:
        for n in itertools.count():
            due = started + n / rate
            if due - started >= seconds:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            name = rng.choices(names, weights)[0]
            pool.submit(getattr(soak, name), random.Random(rng.random()))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def via(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2
                                     else host))


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0, help="requests a second")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before RSS")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds PostgreSQL is gone")
    parser.add_argument("--postgres", metavar="URL",
                        default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    fake = FakeSlack().start()
    database_url, drop = postgres_schema(args.postgres)
    upgrade(database_url)
    target = urlsplit(args.postgres)
    proxy = Proxy((target.hostname or "127.0.0.1", target.port or 5432))
    work = Path(tempfile.mkdtemp(prefix="debrief-soak-"))
    web = Process("web", via(database_url, proxy.port), fake.url, work).start()
    soak = Soak(web, fake)
    database = Database(database_url)
    try:
        fake.chaos(server_errors=0.05, rate_limits=0.01)
        drive(soak, args.rate, args.warmup, seed=1)
        workers = web.workers()
        rss_start = {pid: rss_mb(pid) for pid in workers}
        soak.acks.clear()
        seconds = args.minutes * 60
        window: list[float] = []

        def restart() -> None:
            time.sleep(seconds / 2)
            window.append(time.monotonic())
            proxy.cut(args.outage)
            window.append(time.monotonic())

        cutter = threading.Thread(target=restart, daemon=True)
        cutter.start()
        drive(soak, args.rate, seconds, seed=2)
        cutter.join()
        soak.retries.shutdown(wait=True)  # Slack's last deliveries of failed events
        rss_end = {pid: rss_mb(pid) for pid in workers}
        workers_after = web.workers()
        drained = drain(database, 240)
        fake.heal()
        stored, posted = outcome(database, fake)
    finally:
        status, stop_seconds = web.stop()
        web.kill()
        database.dispose()
        fake.stop()
        drop()

    report(args, soak, window, rss_start, rss_end, workers_after, drained, stored, posted,
           (status, stop_seconds))
    return 0


def drain(database: Database, timeout: float) -> float:
    """Seconds until the outbox held nothing to send (Slack still failing now and then)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with database.session() as session:
            waiting = session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.PENDING).limit(1))
        if waiting is None:
            return time.monotonic() - started
        time.sleep(1.0)
    return float("inf")


def outcome(database: Database, fake: FakeSlack) -> tuple[dict[str, str], Counter[str]]:
    """Team entries stored (marker -> visibility) and how many times each was posted."""
    with database.session() as session:
        entries = session.execute(select(Entry.text, Entry.visibility)).all()
    stored = {text.split()[0]: str(visibility) for text, visibility in entries}
    posted: Counter[str] = Counter()
    for call in fake.succeeded("chat.postMessage"):
        if str(call.body.get("channel", "")).startswith("C"):  # a channel's, not a DM
            posted.update(set(MARKER.findall(json.dumps(call.body))))
    return stored, posted


def report(args, soak, window, rss_start, rss_end, workers_after, drained, stored, posted,
           stopped):
    cut_from, cut_to = window
    allowed_to = cut_to + 15.0  # connections are re-made, events re-delivered
    acks = soak.acks
    ok = [a for a in acks if 200 <= a.status < 300]
    outside = [a for a in acks if not (cut_from <= a.at <= allowed_to)]
    bad_outside = [a for a in outside if not 200 <= a.status < 300]
    team = {m for m, vis in stored.items() if vis == "team"}
    lost = sorted(m for m in team if posted[m] == 0)
    doubled = sorted(m for m in team if posted[m] > 1)
    unsaved = sorted(m for m in soak.saved if m not in stored)
    print(f"soak: {args.minutes:g} min at {args.rate:g} req/s against the Procfile's web on "
          f"PostgreSQL, Slack failing 5% (5xx) + 1% (429), PostgreSQL cut for {args.outage:g} s "
          f"at {args.minutes / 2:g} min (after a {args.warmup:g} s warm-up)")
    print(f"requests: {len(acks)} ({dict(Counter(a.kind for a in acks))})")
    print(f"non-2xx acks: {len(acks) - len(ok)} in all, {len(bad_outside)} outside the restart "
          f"window (target 0); by status: {dict(Counter(a.status for a in acks if a not in ok))}")
    lat = [a.seconds for a in outside if 200 <= a.status < 300]
    print(f"ack p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms (outside the window); "
          f"all requests p99 {pct([a.seconds for a in acks], 99):.1f} ms")
    # Where a tail comes from: each kind of request, and each stretch of the run.
    for kind in sorted({a.kind for a in outside}):
        took = [a.seconds for a in outside if a.kind == kind and 200 <= a.status < 300]
        if len(took) > 1:
            print(f"  {kind:>8}: p50 {pct(took, 50):.1f} ms, p99 {pct(took, 99):.1f} ms "
                  f"({len(took)} requests)")
    began = min(a.at for a in acks)
    stretch = max(60.0, args.minutes * 60 / 6)
    for n in range(int((max(a.at for a in acks) - began) // stretch) + 1):
        took = [a.seconds for a in outside if 200 <= a.status < 300
                and n * stretch <= a.at - began < (n + 1) * stretch]
        if len(took) > 10:
            print(f"  from {n * stretch / 60:4.1f} min: p50 {pct(took, 50):.1f} ms, "
                  f"p99 {pct(took, 99):.1f} ms")
    print(f"entries stored: {len(stored)} ({len(team)} team-visible, posted), told saved but "
          f"not stored: {len(unsaved)}; posted once: {sum(1 for m in team if posted[m] == 1)}, "
          f"lost: {len(lost)} (target 0), doubled: {len(doubled)} (target 0) {doubled[:5]}")
    print(f"outbox drained {drained:.0f} s after the traffic stopped")
    for pid in rss_start:
        growth = (rss_end[pid] - rss_start[pid]) / rss_start[pid] * 100
        print(f"web worker {pid}: RSS {rss_start[pid]:.1f} MB -> {rss_end[pid]:.1f} MB "
              f"({growth:+.1f}%; targets < 10% growth, < 100 MB)")
    if sorted(workers_after) != sorted(rss_start):
        print(f"workers changed during the soak: {sorted(rss_start)} -> {sorted(workers_after)}")
    print(f"SIGTERM at the end: exit {stopped[0]} in {stopped[1]:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
