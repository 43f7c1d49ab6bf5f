"""The outbox table as the delivery core works it: claim due rows with a lease (safe with
many processes), hand back what must wait, re-check and renew a row's lease as its send
starts and while it lasts, and record each row's outcome: sent (with the message `ts`, so
it is never sent again), retry later, or failed.

A claim is a token kept with the rows it leased: a sender whose lease ran out (a pass that
took too long, a process that stalled) finds the row taken over, and leaves it alone.

Nothing here commits: the core's unit of work around each step does (bot/outbox/delivery.py).
Queueing a row is the services' side: `bot.services.outbox.enqueue`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, literal, or_, select, union_all, update
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage, OutboxStatus, utcnow
from bot.outbox import retry
from bot.outbox.retry import Failure, Kind
from bot.services.outbox import PACED

# A claimer that died holds its rows this long; then they are free again.
LEASE = timedelta(seconds=60)


def due_ids(db: Session, now: datetime | None = None, limit: int = 20, *,
            busy: Collection[str] = (), per_channel: int = 3) -> list[int]:
    """Up to `limit` due rows, oldest first: a read, which on SQLite runs without the
    writer lock, however long a backlog makes it (the delivery core reads, then leases).
    Rows of a PACED action are left for later in a `busy` channel, and taken at most
    `per_channel` (the pacer's burst) at a time elsewhere: a backlog in one channel
    waits where it is instead of being leased and handed back."""
    now = now or utcnow()
    return list(db.scalars(_DUE_IDS, {"now": now, "limit": limit, "busy": list(busy),
                                      "per_channel": per_channel}))


def lease(db: Session, ids: Collection[int], now: datetime | None = None, *,
          claim: str | None = None) -> list[OutboxMessage]:
    """Lease those of `ids` that are still due to the claim `claim` (once committed,
    others skip them); a row another claimer leased in the meantime is left out. One
    statement, by primary key: short, on SQLite, under the writer lock."""
    if not ids:
        return []
    now = now or utcnow()
    claimed = db.scalars(_LEASE, {"ids": list(ids), "now": now, "until": now + LEASE,
                                  "claim": claim or uuid.uuid4().hex},
                         execution_options={"populate_existing": True}).all()
    return sorted(claimed, key=lambda message: message.id)


def _due(*, paced: bool = True) -> list[Any]:
    """A row that may be sent now; `paced`: and not waiting for a busy channel's pace."""
    now = bindparam("now", type_=OutboxMessage.next_attempt_at.type)
    return [
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        *([_not_waiting_for_pace(bindparam("busy", expanding=True))] if paced else []),
    ]


def _not_waiting_for_pace(busy: Any) -> Any:
    """Not a PACED row of a channel in `busy` (a list, or an expanding parameter)."""
    return or_(OutboxMessage.action.not_in(PACED), OutboxMessage.channel_id.not_in(busy))


def _due_ids_statement() -> Any:
    # Each channel's oldest due paced rows, `per_channel` of them; other rows all. (An
    # expanding parameter must not serve both IN and NOT IN: empty, it renders as one.)
    ranked = select(OutboxMessage.id, func.row_number().over(
        partition_by=OutboxMessage.channel_id, order_by=OutboxMessage.id).label("place")) \
        .where(*_due(), OutboxMessage.action.in_(PACED)).subquery()
    eligible = union_all(
        select(ranked.c.id).where(ranked.c.place <= bindparam("per_channel")),
        select(OutboxMessage.id).where(*_due(), OutboxMessage.action.not_in(PACED)))
    return (select(OutboxMessage.id).where(OutboxMessage.id.in_(eligible))
            .order_by(OutboxMessage.id).limit(bindparam("limit")))


def _lease_statement() -> Any:
    # PostgreSQL: rows another claimer is leasing right now are skipped, not waited for.
    # MATERIALIZED: chosen once (as a plain subquery it may be run again per updated row).
    free = (select(OutboxMessage.id)
            .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), *_due(paced=False))
            .with_for_update(skip_locked=True)
            .cte("free").prefix_with("MATERIALIZED"))
    # The WHERE repeats the claim test, so two claimers can never both win a row.
    return (update(OutboxMessage)
            .where(OutboxMessage.id.in_(select(free.c.id)), *_due(paced=False))
            .values(claimed_until=bindparam("until", type_=OutboxMessage.claimed_until.type),
                    claim=bindparam("claim", type_=OutboxMessage.claim.type))
            .returning(OutboxMessage))


_DUE_IDS = _due_ids_statement()
_LEASE = _lease_statement()


def release(db: Session, ids: Collection[int]) -> None:
    """Hand claimed rows back untouched."""
    db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)))
               .values(claimed_until=None, claim=None),
               execution_options={"synchronize_session": False})


def start(db: Session, row_id: int, claim: str, now: datetime | None = None) -> bool:
    """As a row's send starts: whether `claim` still holds it (False: its lease ran out
    and another sender took it, or it is no longer pending). If so, its lease is renewed,
    and until its outcome is recorded it counts as possibly sent (`unsure_since`)."""
    now = now or utcnow()
    return _renew(db, row_id, claim, now, unsure_since=func.coalesce(
        OutboxMessage.unsure_since, literal(now, OutboxMessage.unsure_since.type)))


def renew(db: Session, row_id: int, claim: str, now: datetime | None = None) -> bool:
    """Renew the lease while the row's send goes on; False if `claim` lost it."""
    return _renew(db, row_id, claim, now or utcnow())


def _renew(db: Session, row_id: int, claim: str, now: datetime, **values: Any) -> bool:
    result = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claim == claim,
               OutboxMessage.status == OutboxStatus.PENDING)
        .values(claimed_until=now + LEASE, **values),
        execution_options={"synchronize_session": False})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def put_off(db: Session, ids: Collection[int], until: datetime) -> None:
    """Hand claimed rows back, due again at `until` (a workspace's method limit): not a
    failed attempt."""
    db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)))
               .values(claimed_until=None, claim=None, next_attempt_at=until),
               execution_options={"synchronize_session": False})


def next_due(db: Session, *, busy: Collection[str] = ()) -> datetime | None:
    """When the earliest pending row falls due, leaving out PACED rows of `busy`
    channels (they wait for the pacer, not the clock)."""
    query = select(OutboxMessage.next_attempt_at).where(
        OutboxMessage.status == OutboxStatus.PENDING)
    if busy:
        query = query.where(_not_waiting_for_pace(list(busy)))
    return db.scalar(query.order_by(OutboxMessage.next_attempt_at).limit(1))


def mark_sent(message: OutboxMessage, result_ts: str | None) -> None:
    """Sent: keep what Slack produced, so the row is never sent again."""
    message.status = OutboxStatus.SENT
    message.result_ts = result_ts
    message.sent_at = utcnow()
    _unclaim(message)
    message.attempts += 1
    message.last_error = None
    message.unsure_since = None


def mark_retry(message: OutboxMessage, failure: Failure, *, base: float, was_unsure: bool,
               now: datetime | None = None) -> None:
    """Schedule another attempt by the retry rules (bot/outbox/retry.py): Slack's
    Retry-After wins over our own backoff; a rate limit uses up nothing; a fault counts
    towards giving up, and the row fails once they are used up. `was_unsure`: whether the
    row was possibly sent before this attempt began; if not, and Slack plainly answered
    that it did not do it, the row is no longer possibly sent."""
    now = now or utcnow()
    message.last_error = failure.error[:255]
    _unclaim(message)
    if failure.kind != Kind.WAIT:
        message.attempts += 1
    if not (failure.unsure or was_unsure):
        message.unsure_since = None
    if failure.kind == Kind.FAULT:
        message.faults += 1
        if retry.gives_up(message.faults):
            message.status = OutboxStatus.FAILED
            return
    delay = retry.wait(message.attempts, base, failure.retry_after)
    message.next_attempt_at = now + timedelta(seconds=delay)


def mark_failed(message: OutboxMessage, error: str) -> None:
    """Failed for good: never tried again."""
    message.status = OutboxStatus.FAILED
    message.attempts += 1
    message.last_error = error[:255]
    _unclaim(message)


def _unclaim(message: OutboxMessage) -> None:
    message.claimed_until = None
    message.claim = None


def drop(db: Session, message_id: int) -> None:
    """Delete a row that must never be sent: its workspace uninstalled the app."""
    db.execute(delete(OutboxMessage).where(OutboxMessage.id == message_id),
               execution_options={"synchronize_session": False})


def figures(db: Session, now: datetime | None = None) -> dict[str, float]:
    """What an operator watches (GET /metrics): rows waiting to be sent, the age of the
    oldest of them in seconds, and rows given up on. One query, on the status index."""
    now = now or utcnow()
    pending = OutboxMessage.status == OutboxStatus.PENDING
    waiting, oldest, failed = db.execute(select(
        func.count().filter(pending),
        func.min(OutboxMessage.created_at).filter(pending),
        func.count().filter(OutboxMessage.status == OutboxStatus.FAILED),
    ).where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))).one()
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return {"pending": float(waiting), "oldest_pending_seconds": age, "failed": float(failed)}
