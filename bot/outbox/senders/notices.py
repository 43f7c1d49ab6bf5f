"""Notices whose text was written when they were queued: a DM, or a message in a channel
that only one person sees (the rotation's answers among them)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.sender import Sender, Sent, Work


class NoticeSender(Sender):
    actions = frozenset({OutboxAction.NOTIFY_USER, OutboxAction.EPHEMERAL,
                         OutboxAction.ROTATION_NOTICE})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        text = (row.payload or {}).get("text", "")
        if row.action == OutboxAction.NOTIFY_USER:
            response = slack.chat_postMessage(channel=row.user_id or row.channel_id, text=text)
            return Sent(response["ts"])
        slack.chat_postEphemeral(channel=row.channel_id, user=row.user_id or "", text=text)
        return Sent()
