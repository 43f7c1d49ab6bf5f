"""The delivery core: claim what is due, pace it per channel, hand each row to its sender,
and record what came of it.

The core owns the transactions: the claim (what is due, chosen by a read that on SQLite
takes no lock, then leased by id) is one unit of work, the start of each row's send (its
lease re-checked and renewed) another, and each row's outcome (sent, retry later, failed,
with whatever its sender records) a third, all committed here. No
transaction is open while a sender talks to Slack. Rows are leased in the database, so
any number of processes can share one outbox safely; a lease is kept alive while its
send lasts, and one that ran out is never acted on again.

Whatever goes wrong while one row is sent is that row's failure (bot/outbox/retry.py),
never the pass's: the rows after it go out as usual.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from bot.db import Database
from bot.db.models import OutboxMessage, OutboxStatus, utcnow
from bot.identity import NotInstalled, TokenRefreshFailed
from bot.logs import working_on
from bot.outbox import retry, store
from bot.outbox.pacing import Pacer, paced_by, pacer_for
from bot.outbox.retry import Failure, Kind, Permanent
from bot.outbox.sender import Sender, Sent, Work, dispatch
from bot.outbox.senders import every_sender
from bot.tokens import TokenKeyMissing

log = logging.getLogger(__name__)

ClientFor = Callable[[str], WebClient]

# How long a row Slack took is kept trying to be recorded sent while the database fails
# (well within the claim's lease, after which another pass would send it again).
RECORD_PATIENCE = 30.0


class Delivery:
    """Turns outbox rows into Slack calls and records what came of each."""

    # Rows leased by one `run_once`: a pass that attempted this many may have left more.
    BATCH = 100

    def __init__(self, db: Database, client_for: ClientFor, retry_base: float = 2.0):
        self.db = db
        self.client_for = client_for
        self.retry_base = retry_base
        self.pacer: Pacer = pacer_for(db.shares_pace)
        self.work = Work(db)
        self.senders = dispatch(every_sender())

    def run_once(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Deliver the rows due now, up to BATCH; return how many were attempted. Once
        `stopping()`, the rows not yet sent go back to the outbox untouched."""
        claim = uuid.uuid4().hex
        # Chosen by a read (on SQLite without the writer lock: a backlog's long scan holds
        # up no request), leased by id in a short write.
        with self.work.read() as db:
            ids = store.due_ids(db, limit=self.BATCH, busy=self.pacer.busy(db),
                                per_channel=self.pacer.burst)
        if not ids:
            return 0
        with self.work.write() as db:
            due = store.lease(db, ids, claim=claim)
        sent = 0
        for place, message in enumerate(due):
            if stopping():
                self._hand_back([later.id for later in due[place:]])
                break
            if not self._take_slot(message):
                continue
            with working_on(f"outbox {message.action}", message.team_id):  # for the logs
                self._deliver(message, claim)
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

    def _deliver(self, message: OutboxMessage, claim: str) -> None:
        try:
            with self.work.write() as db:
                still_ours = store.start(db, message.id, claim)
        except Exception:
            # The database: the row stays leased until the lease runs out, then it is due.
            log.warning("outbox %s: could not start its send", message.id, exc_info=True)
            return
        if not still_ours:
            log.info("outbox %s: taken over by another sender while it waited", message.id)
            return
        sender = self.senders.get(message.action)
        try:
            with self._lease_kept(message.id, claim):
                result = self._send(sender, message)
        except NotInstalled as gone:
            # Uninstalled (or never ours): dropped, and nobody is told through Slack.
            log.warning("outbox %s (%s) dropped: %s", message.id, message.action, gone)
            self._record(message, lambda: self._drop(message))
            return
        except Exception as error:
            failure = retry.judge(error)
            if failure.kind == Kind.FAULT:  # for developers: it may quote people's words
                log.debug("outbox %s (%s) fault", message.id, message.action, exc_info=True)
            self._record(message, lambda: self._failed(sender, message, claim, failure))
        else:
            self._record(message, lambda: self._sent(sender, message, result))

    def _send(self, sender: Sender | None, message: OutboxMessage) -> Sent:
        if sender is None:
            raise Permanent(f"unknown action {message.action}")
        # The token is picked when the row is sent, not when it was queued: a post that
        # waited past its token's life goes out with the refreshed one.
        try:
            client = self.client_for(message.team_id)
        except (TokenRefreshFailed, TokenKeyMissing) as error:
            # Slack would not refresh it yet, or TOKEN_ENCRYPTION_KEY lacks the key that
            # opens it: the post waits until that is put right.
            raise retry.Unavailable(str(error)) from error
        return sender.send(_once(client), message, self.work)

    def _drop(self, message: OutboxMessage) -> None:
        with self.work.write() as db:
            store.drop(db, message.id)

    @staticmethod
    def _record(message: OutboxMessage, record: Callable[[], None]) -> None:
        try:
            record()
        except Exception as error:
            # The outcome is lost with the database: the row's lease runs out and it is
            # tried again, looked for first as it may have been sent (`unsure_since`).
            log.error("outbox %s (%s): could not record the outcome (%s)", message.id,
                      message.action, type(error).__name__)
            log.debug("outbox %s: recording failed", message.id, exc_info=True)

    def _sent(self, sender: Sender | None, message: OutboxMessage, result: Sent) -> None:
        # Slack did it: if the database is gone for a moment (a restart, a failover),
        # keep trying to say so, or the lease runs out and the row is sent again (looked
        # for first, as it may have been sent: `unsure_since`).
        deadline = time.monotonic() + RECORD_PATIENCE
        pause = 0.5
        while True:
            try:
                self._mark_sent(sender, message, result)
                return
            except OperationalError:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("outbox %s was sent but the database did not take it; "
                            "trying again", message.id)
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def _mark_sent(self, sender: Sender | None, message: OutboxMessage,
                   result: Sent) -> None:
        with self.work.write() as db:
            row = db.get(OutboxMessage, message.id)
            if row is None:
                return
            if row.status == OutboxStatus.SENT:  # another sender took over and finished
                if result.ts != row.result_ts:
                    log.warning("outbox %s (%s): sent again after a lease ran out",
                                message.id, message.action)
                return
            store.mark_sent(row, result.ts)
            if sender is not None:
                sender.sent(db, row, result)

    def _failed(self, sender: Sender | None, message: OutboxMessage, claim: str,
                failure: Failure) -> None:
        with self.work.write() as db:
            row = db.get(OutboxMessage, message.id)
            if row is None or row.claim != claim or row.status != OutboxStatus.PENDING:
                return  # another sender has it now: its outcome is the one that counts
            if failure.kind == Kind.REFUSED:
                log.error("outbox %s (%s) failed: %s", message.id, message.action,
                          failure.error)
                store.mark_failed(row, failure.error)
                if sender is not None:
                    sender.failed(db, row, failure.error, gave_up=False)
                return
            store.mark_retry(row, failure, base=self.retry_base,
                             was_unsure=message.unsure_since is not None)
            if row.status != OutboxStatus.FAILED:
                log.warning("outbox %s (%s) will retry (%s): %s", message.id, message.action,
                            failure.kind, failure.error)
                return
            log.error("outbox %s (%s) gave up after %s faults: %s", message.id,
                      message.action, row.faults, failure.error)
            if sender is not None:
                sender.failed(db, row, failure.error, gave_up=True)

    @contextmanager
    def _lease_kept(self, row_id: int, claim: str) -> Iterator[None]:
        """Renew the row's lease every third of it while its send lasts, so that however
        long Slack takes to answer, nobody else sends the row meanwhile."""
        done = threading.Event()

        def keep() -> None:
            while not done.wait(store.LEASE.total_seconds() / 3):
                try:
                    with self.work.write() as db:
                        if not store.renew(db, row_id, claim):
                            return
                except Exception:  # the next beat tries again
                    log.warning("outbox %s: could not renew its lease", row_id,
                                exc_info=True)

        keeper = threading.Thread(target=keep, name=f"outbox-lease-{row_id}", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()


def _once(client: WebClient) -> WebClient:
    """`client` without slack_sdk's own retry of a request whose connection dropped: for
    a post whose reply was lost that would be a second post. The outbox retries itself,
    and looks for the first post before it sends again."""
    if not getattr(client, "retry_handlers", None):  # none, or a stand-in for one
        return client
    quiet = copy.copy(client)
    quiet.retry_handlers = []
    return quiet
