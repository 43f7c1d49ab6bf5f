"""Capture where the learning happens: the message shortcut "Capture as a learning", the
global shortcut "Log a learning", and the captured speaker's answer to their DM.

Both shortcuts open their form after the ack, at once (a trigger_id lives 3 s); the
message's link is asked of Slack (chat.getPermalink) after the form is open, and added
to it. The form's submission is the Debrief form's (listeners/views.py)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.ids import LoopAction, LoopCallback
from bot.listeners import Deps, Listeners
from bot.listeners.slack_text import typed_text
from bot.listeners.unit import workspace
from bot.services import capture, cards
from bot.views.capture import capture_modal, log_modal

log = logging.getLogger(__name__)

ANSWERS = {LoopAction.CAPTURE_NAMED: capture.KEEP_NAME,
           LoopAction.CAPTURE_ANONYMOUS: capture.ANONYMOUS,
           LoopAction.CAPTURE_REMOVE: capture.REMOVE}


def _team(context: BoltContext, body: dict) -> str:
    return workspace(context)


def _conversation(channel: dict) -> bool:
    """A direct message or a group DM: the bot cannot post an entry there."""
    channel_id, name = channel.get("id", ""), channel.get("name", "")
    return channel_id.startswith("D") or name == "directmessage" or name.startswith("mpdm-")


def capture_message(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """The message shortcut: the Debrief form with the message quoted."""
    ack()
    channel = body.get("channel") or {}
    message = body.get("message") or {}
    channel_id = channel.get("id", "")
    ts = message.get("ts") or body.get("message_ts", "")
    # A bot's or an app's message has nobody to credit or to ask.
    speaker = None if message.get("bot_id") or message.get("subtype") == "bot_message" \
        else message.get("user")
    conversation = _conversation(channel)
    form = functools.partial(
        capture_modal, channel_id=None if conversation else channel_id,
        text=typed_text(message.get("text") or ""), speaker_id=speaker, ts=ts,
        message_channel=channel_id,
        cards=[] if conversation else cards.open_cards(context["db"], _team(context, body),
                                                       channel_id))
    deps: Deps = context["deps"]
    deps.after_ack(open_capture, client, body["trigger_id"], form, channel_id, ts)


def open_capture(client: WebClient, trigger_id: str, form: Callable[..., View],
                 channel_id: str, ts: str) -> None:
    """Open the form first (the trigger expires), then draw it again with the message's
    link (its fields keep what the person typed meanwhile: same block and action ids)."""
    opened = client.views_open(trigger_id=trigger_id, view=form().to_dict())["view"]
    try:
        link = client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"]
        client.views_update(view_id=opened["id"], hash=opened.get("hash"),
                            view=form(permalink=str(link)).to_dict())
    except (SlackApiError, OSError) as error:  # the form works without its link
        code = error.response.get("error") if isinstance(error, SlackApiError) else "connection"
        log.info("capture: no link to the message (%s)", code)


def log_learning(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """The global shortcut: the Debrief form, with a channel to post it in."""
    ack()
    deps: Deps = context["deps"]
    deps.after_ack(open_form, client, body["trigger_id"], log_modal())


def open_form(client: WebClient, trigger_id: str, view: View) -> None:
    client.views_open(trigger_id=trigger_id, view=view.to_dict())


def speaker_answer(ack: Ack, body: dict, context: BoltContext) -> None:
    """The speaker's answer in their DM: keep their name on it, anonymous, or remove it."""
    ack()
    action = body["actions"][0]
    value = str(action.get("value", ""))
    capture.answer(context["db"], _team(context, body), body["user"]["id"],
                   int(value) if value.isdigit() else 0, ANSWERS[action["action_id"]])


def register(app: Listeners, deps: Deps) -> None:
    app.shortcut(LoopCallback.CAPTURE, capture_message)
    app.shortcut(LoopCallback.LOG, log_learning)
    for action in ANSWERS:
        app.action(action, speaker_answer)
