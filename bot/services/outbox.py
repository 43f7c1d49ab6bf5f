"""The durable outbox, as services see it: every Slack call the bot owes, queued in the
caller's transaction with the data it reports, so a committed entry always has its post
queued. Sending them is bot/outbox/'s work (claims, leases, retries, outcomes).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, literal, select
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage, OutboxStatus, utcnow
from bot.ids import OutboxAction

# Actions that post a message in a channel, paced to Slack's one a second per channel.
PACED = frozenset({OutboxAction.POST_ENTRY, OutboxAction.NOTIFY_USER,
                   OutboxAction.ROTATION_REMINDER, OutboxAction.ROTATION_DM,
                   OutboxAction.POST_CARD, OutboxAction.POST_CARD_DEBRIEF,
                   OutboxAction.POST_DIGEST, OutboxAction.CARD_NUDGE,
                   OutboxAction.CARD_ASK,
                   # chat.delete and chat.update are Tier 3: forget-me may queue hundreds.
                   OutboxAction.DELETE_MESSAGE, OutboxAction.UPDATE_ENTRY,
                   OutboxAction.UPDATE_CARD_DEBRIEF, OutboxAction.REDRAW_DIGEST,
                   OutboxAction.DELETE_FILE, OutboxAction.SWEEP_DUPLICATES})


def enqueue(
    db: Session,
    *,
    team_id: str,
    action: OutboxAction,
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


def enqueue_many(db: Session, calls: list[dict[str, Any]]) -> None:
    """`enqueue` for many calls due now, in one statement (a clock's batch): each a dict
    of `enqueue`'s keyword arguments."""
    if not calls:
        return
    now = utcnow()
    db.execute(insert(OutboxMessage), [
        {"entry_id": None, "card_id": None, "user_id": None, "target_ts": None,
         "payload": None, **call, "status": OutboxStatus.PENDING, "attempts": 0,
         "next_attempt_at": now, "created_at": now} for call in calls])
    for call in calls:
        noted(db, OutboxAction(call["action"]), call["channel_id"])


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


def card_on_its_way(db: Session, team_id: str, card_id: int) -> bool:
    """Whether the card's own post is still queued (or being sent): what goes in its
    thread waits for it. Once it failed for good, nothing should wait any more."""
    return db.scalar(select(OutboxMessage.id).where(
        OutboxMessage.team_id == team_id, OutboxMessage.action == OutboxAction.POST_CARD,
        OutboxMessage.card_id == card_id, OutboxMessage.status == OutboxStatus.PENDING)
        .limit(1)) is not None
