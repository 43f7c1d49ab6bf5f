"""The outbox worker: one daemon thread per process that serves requests or the clock,
sending what the outbox holds after the ack, and doing SQLite's upkeep between passes."""

from __future__ import annotations

import logging
import threading
import time

from bot.outbox.delivery import Delivery

log = logging.getLogger(__name__)


class OutboxWorker:
    """A daemon thread that drains the outbox when woken, and re-checks on a timer."""

    IDLE_POLL = 5.0
    # SQLite's write-ahead log is checkpointed here at most this often (bot/db).
    CHECKPOINT_EVERY = 1.0
    # After a wake-up, wait this long for more work: a burst of entries then costs one
    # pass over the outbox instead of one per entry, and acks keep the CPU meanwhile.
    GATHER = 0.05

    def __init__(self, delivery: Delivery):
        self.delivery = delivery
        self._wake = threading.Event()
        self._stop = threading.Event()
        # Set while no row is due now and no pass is running (see wait_idle); the lock
        # makes "woken?" and "idle" one decision between wake() and the thread.
        self._idle = threading.Event()
        self._lock = threading.Lock()
        self._checkpointed = 0.0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (again, after stop)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()

    def wake(self, paced_channel: str | None = None) -> None:
        """New work is in the outbox. `paced_channel`: it is only paced posts in that
        channel; while the channel has no free send slot the timer covers it, and a
        flood of entries in one channel does not cost a pass over the outbox each."""
        if paced_channel is not None and self.delivery.pacer.is_busy(paced_channel):
            return
        with self._lock:
            self._idle.clear()
            self._wake.set()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wake the worker and wait until it is idle: a pass has sent (or put off, for a
        retry or the channel's pace) every row that was due, recorded what came of each,
        and found nothing due now. TimeoutError when it takes longer than `timeout`
        seconds; RuntimeError when the thread is not running."""
        if self._thread is None:
            raise RuntimeError("the outbox worker is not running: start() it first")
        self.wake()
        if not self._idle.wait(timeout):
            raise TimeoutError(f"the outbox worker was still busy after {timeout} s: a Slack "
                               "call that did not answer, a row that kept falling due, or a "
                               "pass that kept failing (see the log)")

    def stopping(self) -> None:
        """Send nothing after the row in flight; hand the rest of the pass back. Returns
        at once (a signal handler calls it); `stop` waits for the thread."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread: the row it is sending, if any, is sent and recorded; the rows
        it claimed for later in the pass go back to the outbox at once, for any process.
        A send still in flight after `timeout` seconds keeps its lease (it may have
        reached Slack): the row comes back when the lease runs out."""
        self.stopping()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("outbox: a send to Slack was still in flight after %.1f s; "
                            "its row is retried when its lease runs out", timeout)
            self._thread = None
        self._idle.clear()

    def _upkeep(self) -> None:
        """SQLite's work kept out of requests' commits (bot/db): indexing the entries just
        logged, and the write-ahead log's checkpoint."""
        db = self.delivery.db
        try:
            db.index_pending()  # a search would do it otherwise, before it looks
        except Exception:
            log.warning("indexing new entries failed", exc_info=True)
        if time.monotonic() - self._checkpointed < self.CHECKPOINT_EVERY:
            return
        self._checkpointed = time.monotonic()
        try:
            db.checkpoint()
        except Exception:  # the next one, or the commits' safety net, will do it
            log.warning("checkpoint failed", exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._stop.wait(self.GATHER)
            wait, failed = self._pass()
            if self._stop.is_set():
                return
            self._upkeep()
            with self._lock:
                # Idle only if nothing is due and nobody woke us during the pass.
                if not failed and (wait is None or wait > 0) and not self._wake.is_set():
                    self._idle.set()
            timeout = self.IDLE_POLL if wait is None else min(self.IDLE_POLL, wait)
            self._wake.wait(timeout=max(timeout, 0.01))

    def _pass(self) -> tuple[float | None, bool]:
        """Send what is due: (seconds until the next row falls due, or None; whether
        the pass failed)."""
        try:
            # Again only after a whole batch: fewer were due (or free to go at their pace),
            # and another look would scan a waiting backlog for nothing.
            while self.delivery.run_once(stopping=self._stop.is_set) >= self.delivery.BATCH:
                if self._stop.is_set():
                    return None, False
                self._upkeep()  # a long drain too
            if self._stop.is_set():
                return None, False
            return self.delivery.seconds_until_due(), False
        except Exception:
            log.exception("outbox worker pass failed")
            return self.IDLE_POLL, True
