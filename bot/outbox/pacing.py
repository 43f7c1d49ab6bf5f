"""Pacing posts per channel: Slack allows about one message a second in a channel,
with short bursts. Sending slower than that is cheaper than collecting 429s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ChannelPacer:
    """A burst of `burst` messages per channel, then `rate` a second (GCRA).

    A channel without a free send slot is `busy`: the outbox leaves its rows where they
    are until `next_free`, so a backlog in one channel costs no work while it waits."""

    def __init__(self, rate: float = 1.0, burst: int = 3,
                 clock: Callable[[], float] = time.monotonic):
        self.burst = burst
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.clock = clock
        self._due: dict[str, float] = {}  # per channel: the theoretical arrival time
        self._lock = threading.Lock()

    def take(self, channel: str) -> bool:
        """Use a send slot in `channel` if one is free now; False if it is busy."""
        with self._lock:
            now = self.clock()
            due = max(self._due.get(channel, now), now)
            if due - now > self.tolerance:
                return False
            self._due[channel] = due + self.interval
            if len(self._due) > 10_000:  # forget channels that are idle again
                self._due = {c: t for c, t in self._due.items() if t > now}
            return True

    def is_busy(self, channel: str) -> bool:
        """Whether `channel` has no free send slot now."""
        with self._lock:
            due = self._due.get(channel)
            return due is not None and due - self.clock() > self.tolerance

    def busy(self) -> list[str]:
        """The channels with no free send slot now."""
        with self._lock:
            now = self.clock()
            return [c for c, due in self._due.items() if due - now > self.tolerance]

    def next_free(self) -> float | None:
        """Seconds until the first busy channel has a free slot; None if none is busy."""
        with self._lock:
            now = self.clock()
            waits = [due - now - self.tolerance for due in self._due.values()
                     if due - now > self.tolerance]
        return min(waits) if waits else None
