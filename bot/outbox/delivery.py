"""The delivery core: claim what is due, pace it per channel, hand each row to its sender,
and record what came of it.

The core owns the transactions: the claim is one unit of work, and each row's outcome
(sent, retry later, failed, with whatever its sender records) is another, both committed
here. No transaction is open while a sender talks to Slack. Rows are leased in the
database, so any number of processes can share one outbox safely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient

from bot.db import Database
from bot.db.models import OutboxMessage, OutboxStatus, utcnow
from bot.identity import NotInstalled, TokenRefreshFailed
from bot.outbox import retry, store
from bot.outbox.pacing import ChannelPacer
from bot.outbox.retry import Permanent, Retry
from bot.outbox.sender import Sender, Sent, Work, dispatch
from bot.outbox.senders import every_sender
from bot.services.outbox import PACED
from bot.tokens import TokenKeyMissing

log = logging.getLogger(__name__)

ClientFor = Callable[[str], WebClient]


class Delivery:
    """Turns outbox rows into Slack calls and records what came of each."""

    def __init__(self, db: Database, client_for: ClientFor, retry_base: float = 2.0):
        self.db = db
        self.client_for = client_for
        self.retry_base = retry_base
        self.pacer = ChannelPacer()
        self.work = Work(db)
        self.senders = dispatch(every_sender())

    def run_once(self) -> int:
        """Deliver every row that is due now; return how many were attempted."""
        with self.work.write() as db:
            due = store.claim_due(db, limit=100, busy=self.pacer.busy(),
                                  per_channel=self.pacer.burst)
            # Rows beyond a channel's free send slots go back as they were, for a later
            # pass: waiting for Slack's pace is not a failed attempt.
            held = [message.id for message in due
                    if message.action in PACED and not self.pacer.take(message.channel_id)]
            if held:
                store.release(db, held)
        now = [message for message in due if message.id not in held]
        for message in now:
            self._deliver(message)
        return len(now)

    def seconds_until_due(self) -> float | None:
        """Until the next row falls due, or a busy channel's rows may go again."""
        with self.work.read() as db:
            when = store.next_due(db, busy=self.pacer.busy())
        free = self.pacer.next_free()
        waits = [] if free is None else [free]
        if when is not None:
            waits.append((when - utcnow()).total_seconds())
        return max(0.0, min(waits)) if waits else None

    def _deliver(self, message: OutboxMessage) -> None:
        sender = self.senders.get(message.action)
        try:
            if sender is None:
                raise Permanent(f"unknown action {message.action}")
            # The token is picked when the row is sent, not when it was queued: a post
            # that waited past its token's life goes out with the refreshed one.
            result = retry.attempt(lambda: sender.send(self._client(message), message,
                                                       self.work))
        except NotInstalled as gone:
            # Uninstalled (or never ours): dropped, and nobody is told through Slack.
            log.warning("outbox %s (%s) dropped: %s", message.id, message.action, gone)
            self._drop(message)
        except Retry as again:
            self._retry_later(sender, message, again)
        except Permanent as failure:
            log.error("outbox %s (%s) failed: %s", message.id, message.action, failure)
            self._failed(sender, message, str(failure))
        else:
            self._sent(sender, message, result)

    def _client(self, message: OutboxMessage) -> WebClient:
        try:
            return self.client_for(message.team_id)
        except (TokenRefreshFailed, TokenKeyMissing) as error:
            # Slack would not refresh it yet, or TOKEN_ENCRYPTION_KEY lacks the key that
            # opens it: the post waits until that is put right.
            raise Retry(str(error)) from error

    def _drop(self, message: OutboxMessage) -> None:
        with self.work.write() as db:
            store.drop(db, message.id)

    def _sent(self, sender: Sender, message: OutboxMessage, result: Sent) -> None:
        with self.work.write() as db:
            row = db.get(OutboxMessage, message.id)
            if row is not None:
                store.mark_sent(row, result.ts)
                sender.sent(db, row, result)

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
