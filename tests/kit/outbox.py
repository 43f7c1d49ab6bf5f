"""The outbox's claim as the delivery core makes it (`store.due_ids`, then `store.lease`),
in one session, for tests that look at claims and leases directly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage
from bot.outbox import store


def claim_due(db: Session, now: datetime | None = None, limit: int = 20) -> list[OutboxMessage]:
    """Lease up to `limit` rows due at `now` to a new claim."""
    return store.lease(db, store.due_ids(db, now, limit), now)
