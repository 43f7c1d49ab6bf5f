"""The delivery core: claim what is due, pace it per channel, hand each row to its sender,
and record what came of it.

The core owns the transactions: the claim is one unit of work, and each row's outcome
(sent, retry later, failed, with whatever its sender records) is another, both committed
here. No transaction is open while a sender talks to Slack. Rows are leased in the
database, so any number of processes can share one outbox safely.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from bot.db import Database
from bot.db.models import OutboxMessage, OutboxStatus, utcnow
from bot.logs import working_on
from bot.outbox import retry, store
from bot.outbox.pacing import Pacer, paced_by, pacer_for
from bot.outbox.retry import Permanent, Retry
from bot.outbox.sender import Sender, Sent, Work, dispatch
from bot.outbox.senders import every_sender

log = logging.getLogger(__name__)

ClientFor = Callable[[str], WebClient]

# How long a row Slack took is kept trying to be recorded sent while the database fails
# (well within the claim's lease, after which another pass would send it again).
RECORD_PATIENCE = 30.0


class Delivery:
    """Turns outbox rows into Slack calls and records what came of each."""

    def __init__(self, db: Database, client_for: ClientFor, retry_base: float = 2.0):
        self.db = db
        self.client_for = client_for
        self.retry_base = retry_base
        self.pacer: Pacer = pacer_for(db.shares_pace)
        self.work = Work(db)
        self.senders = dispatch(every_sender())

    def run_once(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Deliver every row that is due now; return how many were attempted. Once
        `stopping()`, the rows not yet sent go back to the outbox untouched."""
        with self.work.write() as db:
            due = store.claim_due(db, limit=100, busy=self.pacer.busy(db),
                                  per_channel=self.pacer.burst)
        sent = 0
        for place, message in enumerate(due):
            if stopping():
                self._hand_back([later.id for later in due[place:]])
                break
            if not self._take_slot(message):
                continue
            with working_on(f"outbox {message.action}", message.team_id):  # for the logs
                self._deliver(message)
            sent += 1
        return sent

    def _hand_back(self, ids: list[int]) -> None:
        """Release claims this process will not send (it is stopping): another process,
        or this one restarted, takes them at once instead of after the lease."""
        with self.work.write() as db:
            store.release(db, ids)
        log.info("outbox: handed back %d claimed row(s)", len(ids))

    def _take_slot(self, message: OutboxMessage) -> bool:
        """Take the row's send slot in its pace, just before it is sent (a slot taken at
        the claim would be spent late behind the pass's other sends, and Slack would see
        a channel's posts bunched). No slot: a channel's row goes back as it was, for a
        later pass; a row over a workspace's method limit is put off until a call is
        free. Waiting for Slack's pace is not a failed attempt."""
        on = paced_by(message, self.pacer)
        if on is None:
            return True
        with self.work.write() as db:  # on PostgreSQL the pace's row; else nothing
            if self.pacer.take(on.key, db, on.limit):
                return True
            if on.channel:
                store.release(db, [message.id])
            else:
                wait = self.pacer.free_in(on.key, db, on.limit)
                store.put_off(db, [message.id], utcnow() + timedelta(seconds=wait))
        return False

    def seconds_until_due(self) -> float | None:
        """Until the next row falls due, or a busy channel's rows may go again."""
        with self.work.read() as db:
            when = store.next_due(db, busy=self.pacer.busy(db))
            free = self.pacer.next_free(db)
        waits = [] if free is None else [free]
        if when is not None:
            waits.append((when - utcnow()).total_seconds())
        return max(0.0, min(waits)) if waits else None

    def _deliver(self, message: OutboxMessage) -> None:
        sender = self.senders.get(message.action)
        try:
            if sender is None:
                raise Permanent(f"unknown action {message.action}")
            try:
                client = self.client_for(message.team_id)
            except LookupError as missing:  # the workspace uninstalled us
                raise Permanent(str(missing)) from missing
            result = retry.attempt(lambda: sender.send(client, message, self.work))
        except Retry as again:
            self._retry_later(sender, message, again)
        except Permanent as failure:
            log.error("outbox %s (%s) failed: %s", message.id, message.action, failure)
            self._failed(sender, message, str(failure))
        else:
            self._sent(sender, message, result)

    def _sent(self, sender: Sender, message: OutboxMessage, result: Sent) -> None:
        # Slack did it: if the database is gone for a moment (a restart, a failover),
        # keep trying to say so, or the lease runs out and the row is sent again.
        deadline = time.monotonic() + RECORD_PATIENCE
        pause = 0.5
        while True:
            try:
                with self.work.write() as db:
                    row = db.get(OutboxMessage, message.id)
                    if row is not None:
                        store.mark_sent(row, result.ts)
                        sender.sent(db, row, result)
                return
            except OperationalError:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("outbox %s was sent but the database did not take it; "
                            "trying again", message.id)
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def _retry_later(self, sender: Sender | None, message: OutboxMessage,
                     again: Retry) -> None:
        with self.work.write() as db:
            row = db.get(OutboxMessage, message.id)
            if row is None:
                return
            store.mark_retry(row, again.error, base=self.retry_base,
                             retry_after=again.retry_after, counted=again.counted)
            if row.status != OutboxStatus.FAILED:
                log.warning("outbox %s (%s) will retry: %s", message.id, message.action,
                            again.error)
                return
            log.error("outbox %s (%s) gave up after %s attempts: %s", message.id,
                      message.action, row.attempts, again.error)
            if sender is not None:
                sender.failed(db, row, again.error, gave_up=True)

    def _failed(self, sender: Sender | None, message: OutboxMessage, error: str) -> None:
        with self.work.write() as db:
            row = db.get(OutboxMessage, message.id)
            if row is not None:
                store.mark_failed(row, error)
                if sender is not None:
                    sender.failed(db, row, error, gave_up=False)
