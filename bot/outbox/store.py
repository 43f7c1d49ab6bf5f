"""The outbox table as the delivery core works it: claim due rows with a lease (safe with
many processes), hand back what must wait, and record each row's outcome: sent (with the
message `ts`, so it is never sent again), retry later, or failed.

Nothing here commits: the core's unit of work around each step does (bot/outbox/delivery.py).
Queueing a row is the services' side: `bot.services.outbox.enqueue`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, union_all, update
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage, OutboxStatus, utcnow
from bot.outbox import retry
from bot.services.outbox import PACED

# A claimer that died holds its rows this long; then they are free again.
LEASE = timedelta(seconds=60)


def claim_due(db: Session, now: datetime | None = None, limit: int = 20, *,
              busy: Collection[str] = (), per_channel: int = 3) -> list[OutboxMessage]:
    """Lease up to `limit` due rows to this caller (once committed, others skip them).
    Rows of a PACED action are left for later in a `busy` channel, and taken at most
    `per_channel` (the pacer's burst) at a time elsewhere: a backlog in one channel
    waits where it is instead of being leased and handed back.

    One statement: the worker runs it several times a second while entries pour in."""
    now = now or utcnow()
    claimed = db.scalars(_CLAIM, {"now": now, "until": now + LEASE, "limit": limit,
                                  "busy": list(busy), "per_channel": per_channel},
                         execution_options={"populate_existing": True}).all()
    return sorted(claimed, key=lambda message: message.id)


def _due() -> list[Any]:
    now = bindparam("now", type_=OutboxMessage.next_attempt_at.type)
    return [
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        _not_waiting_for_pace(bindparam("busy", expanding=True)),
    ]


def _not_waiting_for_pace(busy: Any) -> Any:
    """Not a PACED row of a channel in `busy` (a list, or an expanding parameter)."""
    return or_(OutboxMessage.action.not_in(PACED), OutboxMessage.channel_id.not_in(busy))


def _claim_statement() -> Any:
    # Each channel's oldest due paced rows, `per_channel` of them; other rows all. (An
    # expanding parameter must not serve both IN and NOT IN: empty, it renders as one.)
    ranked = select(OutboxMessage.id, func.row_number().over(
        partition_by=OutboxMessage.channel_id, order_by=OutboxMessage.id).label("place")) \
        .where(*_due(), OutboxMessage.action.in_(PACED)).subquery()
    eligible = union_all(
        select(ranked.c.id).where(ranked.c.place <= bindparam("per_channel")),
        select(OutboxMessage.id).where(*_due(), OutboxMessage.action.not_in(PACED)))
    # MATERIALIZED: chosen once. As a plain subquery PostgreSQL may run it again for each
    # row it updates, each time skipping the rows just taken, and lease far past `limit`.
    candidates = (select(OutboxMessage.id).where(OutboxMessage.id.in_(eligible))
                  .order_by(OutboxMessage.id).limit(bindparam("limit"))
                  .with_for_update(skip_locked=True)
                  .cte("candidates").prefix_with("MATERIALIZED"))
    # The WHERE repeats the claim test, so two claimers can never both win a row.
    return (update(OutboxMessage)
            .where(OutboxMessage.id.in_(select(candidates.c.id)), *_due())
            .values(claimed_until=bindparam("until", type_=OutboxMessage.claimed_until.type))
            .returning(OutboxMessage))


_CLAIM = _claim_statement()


def release(db: Session, ids: Collection[int]) -> None:
    """Hand claimed rows back untouched."""
    db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)))
               .values(claimed_until=None), execution_options={"synchronize_session": False})


def put_off(db: Session, ids: Collection[int], until: datetime) -> None:
    """Hand claimed rows back, due again at `until` (a workspace's method limit): not a
    failed attempt."""
    db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)))
               .values(claimed_until=None, next_attempt_at=until),
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
    message.claimed_until = None
    message.attempts += 1
    message.last_error = None


def mark_retry(
    message: OutboxMessage,
    error: str,
    *,
    base: float,
    retry_after: float | None = None,
    counted: bool = True,
    now: datetime | None = None,
) -> None:
    """Schedule another attempt by the retry rules (bot/outbox/retry.py): Slack's
    Retry-After wins over our own backoff; a try that is not `counted` (rate limited)
    does not use up an attempt; once they are used up, the row is failed."""
    now = now or utcnow()
    message.last_error = error[:255]
    message.claimed_until = None
    if counted:
        message.attempts += 1
        if retry.exhausted(message.attempts):
            message.status = OutboxStatus.FAILED
            return
    delay = retry.wait(message.attempts, base, retry_after)
    message.next_attempt_at = now + timedelta(seconds=delay)


def mark_failed(message: OutboxMessage, error: str) -> None:
    """Failed for good: never tried again."""
    message.status = OutboxStatus.FAILED
    message.attempts += 1
    message.last_error = error[:255]
    message.claimed_until = None


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
