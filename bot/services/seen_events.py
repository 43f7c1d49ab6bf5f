"""Events API deliveries already handled.

Slack retries an event it thinks failed, and a copy can arrive while the first is still
running. The event's id is recorded in the same transaction as its effect, under a unique
key: a copy waits for the first transaction, then does nothing if it committed and takes
over if it rolled back. That holds across processes, not only in memory.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam

from bot.db import fastpath
from bot.db.models import ProcessedEvent, UTCDateTime


def first_delivery(kit: fastpath.Kit) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING event_id`, with the parameters
    :team_id, :event_id and :now: a row comes back only for the first delivery."""
    return kit.insert(ProcessedEvent).values(
        team_id=bindparam("team_id"), event_id=bindparam("event_id"),
        received_at=bindparam("now", type_=UTCDateTime),
    ).on_conflict_do_nothing().returning(ProcessedEvent.event_id)


# As a write of its own, for events whose effect is written through the session.
SEEN = fastpath.Chain(fastpath.Step("seen", first_delivery), result="seen")
