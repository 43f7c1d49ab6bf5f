"""Pacing Slack calls: Slack allows about one message a second in a channel, with short
bursts, and each method a number of calls a minute per workspace (its tier). Sending
slower than that is cheaper than collecting 429s.

A pace is a GCRA per key: a channel's id for posts (PACED actions), or "TEAM/method" for a
workspace's method limit (METHOD_LIMITS). `ChannelPacer` keeps it in this process (SQLite:
one process sends); `SharedPacer` keeps it in the database (PostgreSQL, bot/db/pace.py),
so any number of processes sending to one channel keep one pace between them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy.orm import Session

from bot.db import pace
from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.services.outbox import PACED

# Sums of intervals in floating point may overshoot a whole burst by a hair: never
# refuse a burst's last slot, nor call a key busy, for less than this.
EPSILON = 1e-6


@dataclass(frozen=True)
class Limit:
    """`burst` calls at once, then `rate` a second."""

    rate: float
    burst: int

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


# Per workspace, for outbox actions other than posts (Slack's tiers: Tier 3 is 50+ calls a
# minute, Tier 4 100+). A row over its method's limit is put off until a call is free.
TIER_3 = Limit(rate=50 / 60, burst=10)
TIER_4 = Limit(rate=100 / 60, burst=20)
METHOD_LIMITS: dict[OutboxAction, tuple[str, Limit]] = {
    OutboxAction.UPDATE_CARD: ("chat.update", TIER_3),
    OutboxAction.ROTATION_UPDATE: ("chat.update", TIER_3),
    # The App Home asks users.conversations (Tier 3) before views.publish (Tier 4).
    OutboxAction.PUBLISH_HOME: ("users.conversations", TIER_3),
    # A collaborator's time zone, for their nudges.
    OutboxAction.CARD_ZONE: ("users.info", TIER_4),
}


class ChannelPacer:
    """The pace kept in this process. A burst of `burst` messages per channel, then `rate`
    a second; a workspace's methods as METHOD_LIMITS say.

    A channel without a free send slot is `busy`: the outbox leaves its rows where they
    are until `next_free`, so a backlog in one channel costs no work while it waits.
    `db` arguments are for the shared pacer's sake; this one needs none."""

    def __init__(self, rate: float = 1.0, burst: int = 3,
                 clock: Callable[[], float] = time.monotonic):
        self.channel = Limit(rate, burst)
        self.burst = burst
        self.clock = clock
        self._due: dict[str, tuple[float, Limit]] = {}  # per key: its tat and limit
        self._lock = threading.Lock()

    def take(self, key: str, db: Session | None = None, limit: Limit | None = None) -> bool:
        """Use a slot for `key` (a channel by default) if one is free now; False if busy."""
        limit = limit or self.channel
        with self._lock:
            now = self.clock()
            due = max(self._due.get(key, (now, limit))[0], now)
            if due - now > limit.tolerance + EPSILON:
                return False
            self._due[key] = (due + limit.interval, limit)
            if len(self._due) > 10_000:  # forget keys that are idle again
                self._due = {k: v for k, v in self._due.items() if v[0] > now}
            return True

    def free_in(self, key: str, db: Session | None = None, limit: Limit | None = None) -> float:
        """Seconds until `key` has a free slot (0 when it has one now)."""
        limit = limit or self.channel
        with self._lock:
            due = self._due.get(key)
            return 0.0 if due is None else max(0.0, due[0] - self.clock() - limit.tolerance)

    def is_busy(self, channel: str) -> bool:
        """Whether `channel` has no free send slot now."""
        with self._lock:
            due = self._due.get(channel)
            return due is not None and \
                due[0] - self.clock() > self.channel.tolerance + EPSILON

    def busy(self, db: Session | None = None) -> list[str]:
        """The channels with no free send slot now."""
        return list(self._channel_waits())

    def next_free(self, db: Session | None = None) -> float | None:
        """Seconds until the first busy channel has a free slot; None if none is busy."""
        waits = self._channel_waits().values()
        return min(waits) if waits else None

    def _channel_waits(self) -> dict[str, float]:
        with self._lock:
            now, tolerance = self.clock(), self.channel.tolerance
            return {key: tat - now - tolerance for key, (tat, limit) in self._due.items()
                    if limit is self.channel and tat - now > tolerance + EPSILON}


class SharedPacer:
    """The pace kept in the database, shared by every process that sends (PostgreSQL).
    The same calls as ChannelPacer; `take` runs in the caller's transaction (one per
    send, just before it). `clock`, when given, stands in for the database's
    clock (tests freeze it)."""

    FORGET_EVERY = 60.0

    def __init__(self, rate: float = 1.0, burst: int = 3,
                 clock: Callable[[], float] | None = None):
        self.channel = Limit(rate, burst)
        self.burst = burst
        self.clock = clock
        # What this process last learned: per channel, when (time.monotonic) it is free.
        self._free_at: dict[str, float] = {}
        self._waits: dict[str, float] = {}
        self._forgot = 0.0
        self._lock = threading.Lock()

    def _now(self) -> float | None:
        return self.clock() if self.clock is not None else None

    def take(self, key: str, db: Session | None = None, limit: Limit | None = None) -> bool:
        assert db is not None, "the shared pace is taken in a transaction"
        limit = limit or self.channel
        if time.monotonic() - self._forgot > self.FORGET_EVERY:
            self._forgot = time.monotonic()
            pace.forget_idle(db, now=self._now())
        taken = pace.take(db, key, interval=limit.interval,
                          tolerance=limit.tolerance + EPSILON, now=self._now())
        with self._lock:
            self._waits[key] = taken.wait
            if limit is self.channel:
                self._free_at[key] = time.monotonic() + taken.wait
        return taken.taken

    def free_in(self, key: str, db: Session | None = None, limit: Limit | None = None) -> float:
        """Seconds until `key` is free, as the last `take` of it found."""
        with self._lock:
            return self._waits.get(key, 0.0)

    def is_busy(self, channel: str) -> bool:
        # From what this process saw: another may have made it busier, never freer.
        with self._lock:
            return self._free_at.get(channel, 0.0) > time.monotonic()

    def busy(self, db: Session | None = None) -> list[str]:
        return list(self._channel_waits(db))

    def next_free(self, db: Session | None = None) -> float | None:
        waits = self._channel_waits(db).values()
        return min(waits) if waits else None

    def _channel_waits(self, db: Session | None) -> dict[str, float]:
        assert db is not None, "the shared pace is read from the database"
        waits = pace.busy(db, tolerance=self.channel.tolerance + EPSILON, now=self._now())
        with self._lock:
            now = time.monotonic()
            self._free_at.update({key: now + wait for key, wait in waits.items()})
            if len(self._free_at) > 10_000:
                self._free_at = {k: t for k, t in self._free_at.items() if t > now}
        return waits


Pacer = ChannelPacer | SharedPacer


def pacer_for(shared: bool) -> Pacer:
    """The database's pace when several processes may send (`shared`), else this one's."""
    return SharedPacer() if shared else ChannelPacer()


class PacedOn(NamedTuple):
    """The key a row is paced on, its limit, and whether it is a channel's (its rows wait
    in the outbox untouched) or a method's (its row is put off)."""

    key: str
    limit: Limit
    channel: bool


def paced_by(message: OutboxMessage, pacer: Pacer) -> PacedOn | None:
    """What `message` is paced on; None when nothing."""
    if message.action in PACED:
        return PacedOn(message.channel_id, pacer.channel, True)
    method = METHOD_LIMITS.get(message.action)
    if method is not None:
        name, limit = method
        return PacedOn(f"{message.team_id}/{name}", limit, False)
    return None
