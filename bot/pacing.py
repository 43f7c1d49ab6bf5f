"""Pacing posts per channel: Slack allows about one message a second in a channel,
with short bursts. Sending slower than that is cheaper than collecting 429s."""

from __future__ import annotations

import threading
import time


class ChannelPacer:
    """A token bucket per channel: `burst` messages at once, then `rate` a second."""

    def __init__(self, rate: float = 1.0, burst: int = 3, clock=time.monotonic):  # type: ignore[no-untyped-def]
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _level(self, channel: str, now: float) -> float:
        tokens, then = self._buckets.get(channel, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - then) * self.rate)

    def take(self, channel: str) -> float:
        """0 if a message may go to `channel` now (and count it); else seconds to wait."""
        with self._lock:
            now = self.clock()
            tokens = self._level(channel, now)
            if tokens >= 1.0:
                self._buckets[channel] = (tokens - 1.0, now)
                return 0.0
            self._buckets[channel] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def waiting(self) -> dict[str, float]:
        """Channels that must wait, with the seconds until their next message may go."""
        with self._lock:
            now = self.clock()
            result = {}
            for channel in list(self._buckets):
                tokens = self._level(channel, now)
                if tokens >= self.burst:
                    del self._buckets[channel]  # full again: forget it
                elif tokens < 1.0:
                    result[channel] = (1.0 - tokens) / self.rate
            return result
