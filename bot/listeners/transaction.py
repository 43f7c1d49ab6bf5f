"""One database session per listener call, with Slack's event retries deduplicated in it.

Bolt runs global middleware before the listener, not around it, so the session is opened
here instead: the listener's writes and the event's "seen" row commit together, and a
failure rolls both back so Slack's retry can do the work again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db.models import utcnow
from bot.listeners import Deps
from bot.services import seen_events

Listener = Callable[..., Any]


def transactional(deps: Deps) -> Callable[[Listener], Listener]:
    """Wrap a listener so it finds `context["db"]` (a session) and `context["deps"]`.

    The listener must take `context`, and `body` when it handles events."""

    def wrap(listener: Listener) -> Listener:
        @functools.wraps(listener)
        def run(**kwargs: Any) -> Any:
            context: BoltContext = kwargs["context"]
            body = kwargs.get("body") or {}
            with deps.database.session() as session:
                context["db"] = session
                context["deps"] = deps
                event_id = body.get("event_id") if body.get("type") == "event_callback" else None
                if event_id and not _first_delivery(session, context.team_id or
                                                    body.get("team_id", ""), event_id):
                    session.rollback()
                    if "ack" in kwargs:
                        kwargs["ack"]()
                    return None
                result = listener(**kwargs)
                if session.in_transaction():  # a listener may have written directly
                    session.commit()
                return result

        return run

    return wrap


_RECORD_EVENT = {"postgresql": seen_events.record(postgresql.insert),
                 "sqlite": seen_events.record(sqlite.insert)}


def _first_delivery(session: Session, team_id: str, event_id: str) -> bool:
    """Record the event as seen (bot/services/seen_events.py); False if it already was."""
    connection = session.connection()
    result = connection.execute(_RECORD_EVENT[connection.dialect.name],
                                {"team_id": team_id, "event_id": event_id,
                                 "now": utcnow()})
    return result.first() is not None
