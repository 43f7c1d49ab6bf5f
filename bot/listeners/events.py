"""Events API: reactions become applause; opening the App Home publishes it; an uninstall
(or the bot's token revoked) deletes the workspace's tokens and waiting posts at once, and
sets the day its data is erased.

Each listener's writes commit with the event's "seen" row, so a redelivered event has its
effect once; reactions on messages that are not ours are acknowledged and change nothing.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime

from slack_bolt import Ack, BoltContext

from bot.listeners import Deps, Listeners
from bot.listeners.unit import workspace
from bot.services import applause, home, workspaces

log = logging.getLogger(__name__)


def _reaction(event: dict, context: BoltContext, body: dict) -> applause.Reaction | None:
    """The reaction for the applause service, or None if it is not on a message (files
    and file comments can be reacted to as well)."""
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user") or not event.get("reaction"):
        return None
    # Never item_user: for our own posts Slack names the bot, not the author.
    return applause.Reaction(
        team_id=workspace(context), event_id=body.get("event_id", ""),
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
        home.queue_publish(context["db"], workspace(context),
                           event["user"])
    ack()


def app_uninstalled(ack: Ack, body: dict, context: BoltContext) -> None:
    _uninstalled(body, context)
    ack()


def tokens_revoked(ack: Ack, body: dict, event: dict, context: BoltContext) -> None:
    # Only the bot's token matters: Debrief asks for no user tokens.
    if (event.get("tokens") or {}).get("bot"):
        _uninstalled(body, context)
    ack()


def _uninstalled(body: dict, context: BoltContext) -> None:
    """Bolt authorizes these two events from the (signed) payload without looking for a
    token: there is none left. An org-wide install's carry the enterprise alone."""
    deps: Deps = context["deps"]
    result = context.authorize_result
    when = datetime.fromtimestamp(int(body.get("event_time") or time.time()), UTC)
    gone = workspaces.uninstalled(
        context["db"], result.team_id if result else None,
        result.enterprise_id if result else None,
        org_install=bool(context.is_enterprise_install),
        retention_days=deps.settings.uninstall_retention_days, when=when)
    deps.forget_tokens()
    log.info("uninstalled from %s workspace(s) %s; data erased in %s days", len(gone),
             ", ".join(gone), deps.settings.uninstall_retention_days)


def register(app: Listeners, deps: Deps) -> None:
    app.event(REACTIONS, on_reaction, dedupe=False)
    app.event("app_home_opened", app_home_opened)
    # Not deduplicated by event id (an org-wide install's have no workspace to key it
    # on): doing it twice changes nothing, and a late copy after a reinstall is ignored.
    app.event("app_uninstalled", app_uninstalled, dedupe=False)
    app.event("tokens_revoked", tokens_revoked, dedupe=False)
