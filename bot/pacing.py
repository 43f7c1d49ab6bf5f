"""Pacing posts per channel: Slack allows about one message a second in a channel,
with short bursts. Sending slower than that is cheaper than collecting 429s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ChannelPacer:
    """A burst of `burst` messages per channel, then `rate` a second (GCRA).

    `reserve` hands each message its own send time, so a backlog in one channel drains
    one message at a time instead of becoming due all at once."""

    def __init__(self, rate: float = 1.0, burst: int = 3,
                 clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.clock = clock
        self._due: dict[str, float] = {}  # per channel: the theoretical arrival time
        self._lock = threading.Lock()

    def reserve(self, channel: str) -> float:
        """Seconds from now until this message may go to `channel` (0: at once)."""
        with self._lock:
            now = self.clock()
            due = max(self._due.get(channel, now), now)
            wait = max(0.0, due - now - self.tolerance)
            self._due[channel] = due + self.interval
            if len(self._due) > 10_000:  # forget channels that are idle again
                self._due = {c: t for c, t in self._due.items() if t > now}
            return wait
