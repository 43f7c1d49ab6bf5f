"""The durable outbox: every Slack call the bot owes, stored with the data it reports.

Rows are written in the caller's transaction, so a committed entry always has its post
queued. A sender claims due rows with a lease (safe with many processes), and records
the outcome: sent (with the message `ts`, so it is never sent again), retry later, or failed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, or_, select, union_all, update
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage, OutboxStatus, utcnow
from bot.ids import OutboxAction

# Actions that post a message in a channel, paced to Slack's one a second per channel.
PACED = frozenset({OutboxAction.POST_ENTRY, OutboxAction.NOTIFY_USER,
                   OutboxAction.ROTATION_REMINDER, OutboxAction.ROTATION_DM,
                   OutboxAction.POST_CARD, OutboxAction.POST_CARD_DEBRIEF,
                   OutboxAction.POST_DIGEST,
                   # chat.delete is Tier 3: forget-me may queue hundreds.
                   OutboxAction.DELETE_MESSAGE})

LEASE = timedelta(seconds=60)
MAX_BACKOFF = 300.0
MAX_ATTEMPTS = 25


def enqueue(
    db: Session,
    *,
    team_id: str,
    action: str,
    channel_id: str,
    entry_id: int | None = None,
    card_id: int | None = None,
    user_id: str | None = None,
    target_ts: str | None = None,
    payload: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue a Slack call in the current transaction (the caller commits); `not_before`
    holds it back until then (to gather a burst of changes into one call)."""
    message = OutboxMessage(
        team_id=team_id,
        action=action,
        channel_id=channel_id,
        entry_id=entry_id,
        card_id=card_id,
        user_id=user_id,
        target_ts=target_ts,
        payload=payload,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=not_before or utcnow(),
    )
    db.add(message)
    noted(db, action, channel_id)
    return message


def noted(db: Session, action: OutboxAction, channel_id: str) -> None:
    """Remember in the unit of work that a call was queued: its owner wakes the outbox
    worker once the transaction has committed (`taken_notes`)."""
    db.info.setdefault("queued", []).append((action, channel_id))


def taken_notes(db: Session) -> list[tuple[OutboxAction, str]]:
    """What the unit of work queued since the last call, forgotten as it is read."""
    return db.info.pop("queued", [])


def only_paced_in(queued: Collection[tuple[OutboxAction, str]]) -> str | None:
    """The channel, when all that was queued is paced posts in that one channel: while
    the channel has no free send slot the worker's timer covers them, and a flood of
    entries in one channel does not cost a pass over the outbox each."""
    channels = {channel for action, channel in queued if action in PACED}
    if len(channels) == 1 and all(action in PACED for action, _ in queued):
        return channels.pop()
    return None


def entry_call(entry_id: Any, action: Any) -> dict[str, Any]:
    """The columns of a call queued for a new entry, due at once, as expressions: the
    parameters :team_id, :channel_id, :author_id and :created_at are the entry's."""
    def param(name: str, column: str) -> Any:
        return bindparam(name, type_=OutboxMessage.__table__.c[column].type)

    return {"team_id": param("team_id", "team_id"),
            "channel_id": param("channel_id", "channel_id"),
            "user_id": param("author_id", "user_id"),
            "status": literal(str(OutboxStatus.PENDING)), "attempts": literal(0),
            "next_attempt_at": param("created_at", "next_attempt_at"),
            "created_at": param("created_at", "created_at"),
            "entry_id": entry_id, "action": action}


# `enqueue` for a new entry as one Core statement (the hot paths): :action, :entry_id too.
ENTRY_CALL = insert(OutboxMessage).values(entry_call(
    bindparam("entry_id", type_=OutboxMessage.entry_id.type),
    bindparam("action", type_=OutboxMessage.action.type)))


def claim_due(db: Session, now: datetime | None = None, limit: int = 20, *,
              busy: Collection[str] = (), per_channel: int = 3) -> list[OutboxMessage]:
    """Lease up to `limit` due rows to this caller and commit; others will skip them.
    Rows of a PACED action are left for later in a `busy` channel, and taken at most
    `per_channel` (the pacer's burst) at a time elsewhere: a backlog in one channel
    waits where it is instead of being leased and handed back.

    One statement: the worker runs it several times a second while entries pour in."""
    now = now or utcnow()
    claimed = db.scalars(_CLAIM, {"now": now, "until": now + LEASE, "limit": limit,
                                  "busy": list(busy), "per_channel": per_channel},
                         execution_options={"populate_existing": True}).all()
    db.commit()
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
    """Hand claimed rows back untouched (the caller commits)."""
    db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)))
               .values(claimed_until=None), execution_options={"synchronize_session": False})


def card_on_its_way(db: Session, team_id: str, card_id: int) -> bool:
    """Whether the card's own post is still queued (or being sent): what goes in its
    thread waits for it. Once it failed for good, nothing should wait any more."""
    return db.scalar(select(OutboxMessage.id).where(
        OutboxMessage.team_id == team_id, OutboxMessage.action == OutboxAction.POST_CARD,
        OutboxMessage.card_id == card_id, OutboxMessage.status == OutboxStatus.PENDING)
        .limit(1)) is not None


def next_due(db: Session, *, busy: Collection[str] = ()) -> datetime | None:
    """When the earliest pending row falls due, leaving out PACED rows of `busy`
    channels (they wait for the pacer, not the clock)."""
    query = select(OutboxMessage.next_attempt_at).where(
        OutboxMessage.status == OutboxStatus.PENDING)
    if busy:
        query = query.where(_not_waiting_for_pace(list(busy)))
    return db.scalar(query.order_by(OutboxMessage.next_attempt_at).limit(1))


def mark_sent(message: OutboxMessage, result_ts: str | None) -> None:
    message.status = OutboxStatus.SENT
    message.result_ts = result_ts
    message.sent_at = utcnow()
    message.claimed_until = None
    message.attempts += 1
    message.last_error = None


def backoff(attempts: int, base: float) -> float:
    """Seconds to wait after the given number of failed attempts (exponential, capped)."""
    return min(MAX_BACKOFF, base * (2 ** max(0, attempts - 1)))


def mark_retry(
    message: OutboxMessage,
    error: str,
    *,
    base: float,
    retry_after: float | None = None,
    counted: bool = True,
    now: datetime | None = None,
) -> None:
    """Schedule another attempt; Slack's Retry-After wins over our own backoff. A try
    that is not `counted` (rate limited: Slack said when to come back) does not use up
    an attempt, so a long rate limit never makes a post give up. After MAX_ATTEMPTS
    counted failures the row is failed."""
    now = now or utcnow()
    message.last_error = error[:255]
    message.claimed_until = None
    if counted:
        message.attempts += 1
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
            return
    delay = retry_after if retry_after is not None else backoff(message.attempts, base)
    message.next_attempt_at = now + timedelta(seconds=delay)


def mark_failed(message: OutboxMessage, error: str) -> None:
    message.status = OutboxStatus.FAILED
    message.attempts += 1
    message.last_error = error[:255]
    message.claimed_until = None
