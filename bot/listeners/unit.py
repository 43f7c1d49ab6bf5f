"""One unit of work per listener call, applied to every listener when it is registered.

The listener gets a database session as `context["db"]`; the services it calls flush,
never commit. When the listener returns, the unit commits everything at once (an event's
"seen" row included, so a redelivered event has its effect once), then wakes the outbox
worker for the calls it queued. Bolt answers Slack after the listener returns
(`process_before_response`), so what a person wrote is committed before they are told.
A `UserError` rolls everything back and is shown to the person (`refuse`); any other
failure rolls back too, and Bolt's error handler answers (bot/app.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from slack_bolt import Args, BoltContext

from bot.db import fastpath
from bot.db.models import utcnow
from bot.ids import OutboxAction
from bot.listeners.deps import Deps
from bot.services import outbox, seen_events
from bot.services.errors import UserError

Listener = Callable[..., Any]


def unit_of_work(deps: Deps, listener: Listener, *, dedupe: bool = True) -> Listener:
    """`listener` inside one unit of work. `dedupe`: an event's delivery is recorded as
    seen in the same transaction, and a copy already seen is acknowledged and dropped
    (False when the listener's own write records it, as a reaction's does)."""

    wanted = inspect.getfullargspec(listener).args

    def run(args: Args) -> Any:
        # Bolt hands `args` (everything) to a listener that asks for it by that name.
        kwargs = {name: getattr(args, name) for name in wanted}
        context: BoltContext = args.context
        body = args.body or {}
        with deps.database.session() as db:
            context["db"], context["deps"] = db, deps
            if dedupe and not _first_delivery(db, context, body):
                db.rollback()
                args.ack()
                return None
            try:
                result = listener(**kwargs)
            except UserError as error:
                db.rollback()
                outbox.taken_notes(db)
                refuse(db, args, error)
                result = None
            if db.in_transaction():
                db.commit()
            queued = outbox.taken_notes(db)
        if queued:
            deps.wake_outbox(paced_channel=outbox.only_paced_in(queued))
        return result

    return run


def workspace(context: BoltContext) -> str:
    """The workspace this request acts in: the one Slack's authorization found the bot
    installed in (bot/identity.py), never a field of the payload a client could choose
    (a person's home team, private_metadata…). Every read and write is scoped to it."""
    result = context.authorize_result
    team_id = result.team_id if result is not None else None
    if not team_id:
        raise LookupError("a request reached a listener without an authorized workspace")
    return team_id


def _first_delivery(db: Any, context: BoltContext, body: dict) -> bool:
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if not event_id:
        return True
    db.connection()  # begin: the "seen" row commits with the listener's writes
    return fastpath.run(db, seen_events.SEEN, {
        "team_id": workspace(context), "event_id": event_id,
        "now": utcnow()}) is not None


def refuse(db: Any, args: Args, error: UserError) -> None:
    """Tell the person why nothing changed, where they asked: the command's answer, the
    modal's first field, or (for a button) a message only they see."""
    ack, body = args.ack, args.body or {}
    message = f":warning: {error}"
    if body.get("command"):
        ack(text=message)
    elif body.get("type") == "view_submission":
        block_id = first_input(body)
        if block_id is not None:
            ack(response_action="errors", errors={block_id: str(error)[:150]})
        else:
            ack()
    elif body.get("type") == "block_actions":
        ack()
        answer_button(db, body, workspace(args.context), message)
    else:
        ack()


def answer_button(db: Any, body: dict, team_id: str, text: str) -> None:
    """Queue a message that only the person who pressed a button sees, where they
    pressed it (in the unit of work: it goes out once that commits); `team_id` is the
    workspace Slack's authorization found (`workspace`)."""
    channel = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id")
    user = (body.get("user") or {}).get("id")
    if channel and user:
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.EPHEMERAL,
                       channel_id=channel, user_id=user, payload={"text": text})


def first_input(body: dict) -> str | None:
    """The block to carry a modal's error: Slack refuses errors for blocks a view lacks."""
    for block in (body.get("view") or {}).get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return block["block_id"]
    return None
