"""Events API: reactions become applause; opening the App Home publishes it.

Each listener runs in the transaction that also records the event's id, so a redelivered
event has its effect once; reactions on messages that are not ours are acknowledged and
change nothing.
"""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot.listeners import Deps
from bot.listeners.transaction import transactional
from bot.services import applause, cards, home


def _reaction(event: dict, context: BoltContext, body: dict) -> dict | None:
    """The reaction's arguments for the applause service, or None if it is not on a
    message (files and file comments can be reacted to as well)."""
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user") or not event.get("reaction"):
        return None
    return {
        "team_id": context.team_id or body.get("team_id", ""),
        "reactor_id": event["user"], "channel_id": item.get("channel", ""),
        "ts": item.get("ts", ""), "emoji": event["reaction"],
        "event_ts": event.get("event_ts"),
    }


def reaction_added(ack: Ack, body: dict, event: dict, context: BoltContext) -> None:
    reaction = _reaction(event, context, body)
    # Never item_user: for our own posts Slack names the bot, not the author.
    if reaction is not None and applause.add(context["db"].connection(), **reaction):
        _refresh_card(context, reaction)
    ack()


def reaction_removed(ack: Ack, body: dict, event: dict, context: BoltContext) -> None:
    reaction = _reaction(event, context, body)
    if reaction is not None and applause.remove(context["db"].connection(), **reaction):
        _refresh_card(context, reaction)
    ack()


def _refresh_card(context: BoltContext, reaction: dict) -> None:
    """A card shows its applause: queue a (coalesced) refresh of the card it is on."""
    cards.applause_changed(context["db"], reaction["team_id"], reaction["channel_id"],
                           reaction["ts"])
    context["deps"].wake_outbox()


def app_home_opened(ack: Ack, body: dict, event: dict, context: BoltContext) -> None:
    if event.get("tab", "home") == "home" and event.get("user"):
        team_id = context.team_id or body.get("team_id", "")
        if home.queue_publish(context["db"], team_id, event["user"]):
            context["deps"].wake_outbox()
    ack()


def register(app: App, deps: Deps) -> None:
    app.event("reaction_added")(transactional(deps)(reaction_added))
    app.event("reaction_removed")(transactional(deps)(reaction_removed))
    app.event("app_home_opened")(transactional(deps)(app_home_opened))
