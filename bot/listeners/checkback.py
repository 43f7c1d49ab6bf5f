"""Opportunity → check back → lesson: the author's buttons. "When should I ask?" after an
opportunity is logged, and the check-back DM's **Log what we learned** (the Debrief form
as a lesson that follows the opportunity), **Not yet** and **Drop it**."""

from __future__ import annotations

import json
import re

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import PlainTextObject
from slack_sdk.models.views import View

from bot.db.models import Kind
from bot.ids import LoopAction, OutboxAction
from bot.listeners import Deps, Listeners
from bot.listeners.unit import workspace
from bot.services import cards, checkback, outbox
from bot.views.checkback import chosen
from bot.views.entries import entry_modal

WHEN = re.compile(rf"^{LoopAction.CHECKBACK_WHEN}_")


def _team(context: BoltContext, body: dict) -> str:
    return workspace(context)


def _channel(body: dict) -> str:
    return (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id", "")


def _id(value: str) -> int:
    return int(value) if value.isdigit() else 0


def choose_when(ack: Ack, body: dict, context: BoltContext) -> None:
    """One of "In a week / two weeks / a month / When its card closes / Don't ask"."""
    ack()
    check_id, _, choice = str(body["actions"][0].get("value", "")).partition(":")
    team_id, user_id = _team(context, body), body["user"]["id"]
    check = checkback.choose(context["db"], team_id, user_id, _id(check_id), choice)
    outbox.enqueue(context["db"], team_id=team_id, action=OutboxAction.EPHEMERAL,
                   channel_id=_channel(body) or user_id, user_id=user_id,
                   payload={"text": chosen(check)})


def log_learned(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """**Log what we learned**: the Debrief form as a lesson, in the opportunity's channel."""
    ack()
    db, team_id = context["db"], _team(context, body)
    check_id = _id(str(body["actions"][0].get("value", "")))
    opportunity = checkback.open_follow_up(db, team_id, body["user"]["id"], check_id)
    view = entry_modal(opportunity.channel_id, Kind.LESSON,
                       cards=cards.open_cards(db, team_id, opportunity.channel_id))
    view.private_metadata = json.dumps({"channel_id": opportunity.channel_id,
                                        "checkback_id": check_id})
    view.title = PlainTextObject(text="What we learned")
    deps: Deps = context["deps"]
    deps.after_ack(_open, client, body["trigger_id"], view)


def _open(client: WebClient, trigger_id: str, view: View) -> None:
    client.views_open(trigger_id=trigger_id, view=view.to_dict())


def not_yet(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    checkback.not_yet(context["db"], _team(context, body), body["user"]["id"],
                      _id(str(body["actions"][0].get("value", ""))))


def drop(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    checkback.drop(context["db"], _team(context, body), body["user"]["id"],
                   _id(str(body["actions"][0].get("value", ""))))


def register(app: Listeners, deps: Deps) -> None:
    app.action(WHEN, choose_when)
    app.action(LoopAction.CHECKBACK_LEARNED, log_learned)
    app.action(LoopAction.CHECKBACK_NOT_YET, not_yet)
    app.action(LoopAction.CHECKBACK_DROP, drop)
