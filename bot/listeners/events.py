"""Events API: reactions become applause; opening the App Home publishes it.

Each listener's writes commit with the event's "seen" row, so a redelivered event has its
effect once; reactions on messages that are not ours are acknowledged and change nothing.
"""

from __future__ import annotations

import re

from slack_bolt import Ack, BoltContext

from bot.listeners import Deps, Listeners
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


def on_reaction(ack: Ack, body: dict, event: dict, context: BoltContext) -> None:
    """reaction_added and reaction_removed. The event's "seen" row is part of the
    applause write itself (services/applause.py), one round trip on PostgreSQL."""
    reaction = _reaction(event, context, body)
    # Slack's events always carry an event_id; without one, once-only cannot hold.
    if reaction is not None and reaction.event_id:
        applause.record(context["db"], reaction, added=event["type"] == "reaction_added")
    ack()


def app_home_opened(ack: Ack, body: dict, event: dict, context: BoltContext) -> None:
    if event.get("tab", "home") == "home" and event.get("user"):
        home.queue_publish(context["db"], context.team_id or body.get("team_id", ""),
                           event["user"])
    ack()


def register(app: Listeners, deps: Deps) -> None:
    app.event(REACTIONS, on_reaction, dedupe=False)
    app.event("app_home_opened", app_home_opened)
