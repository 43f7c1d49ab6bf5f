"""Events API: reactions become applause; opening the App Home publishes it.

Each listener's writes commit with the event's "seen" row, so a redelivered event has its
effect once; reactions on messages that are not ours are acknowledged and change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext

from bot.listeners import Deps
from bot.listeners.transaction import transactional
from bot.services import applause, home


def _reaction(event: dict, context: BoltContext, body: dict) -> applause.Reaction | None:
    """The reaction for the applause service, or None if it is not on a message (files
    and file comments can be reacted to as well)."""
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user") or not event.get("reaction"):
        return None
    # Never item_user: for our own posts Slack names the bot, not the author.
    return applause.Reaction(
        team_id=context.team_id or body.get("team_id", ""), event_id=body.get("event_id", ""),
        reactor_id=event["user"], channel_id=item.get("channel", ""), ts=item.get("ts", ""),
        emoji=event["reaction"], event_ts=event.get("event_ts"),
    )


# Both kinds in one listener: Bolt tries listeners in turn, and each try costs.
REACTIONS = re.compile(r"^reaction_(added|removed)$")


def on_reaction(deps: Deps) -> Callable[..., None]:
    """The listener for reaction_added and reaction_removed. It writes through the hot
    path (bot/db/direct.py), its own "seen" row included: no session, no wrapper."""

    def listener(ack: Ack, body: dict, event: dict, context: BoltContext) -> None:
        reaction = _reaction(event, context, body)
        # Slack's events always carry an event_id; without one, once-only cannot hold.
        if reaction is not None and reaction.event_id and applause.record(
                deps.database.direct, reaction, added=event["type"] == "reaction_added"):
            deps.wake_outbox()  # a card's tally to refresh
        ack()

    return listener


def app_home_opened(ack: Ack, body: dict, event: dict, context: BoltContext) -> None:
    if event.get("tab", "home") == "home" and event.get("user"):
        team_id = context.team_id or body.get("team_id", "")
        if home.queue_publish(context["db"], team_id, event["user"]):
            context["deps"].wake_outbox()
    ack()


def register(app: App, deps: Deps) -> None:
    app.event(REACTIONS)(on_reaction(deps))
    app.event("app_home_opened")(transactional(deps)(app_home_opened))
