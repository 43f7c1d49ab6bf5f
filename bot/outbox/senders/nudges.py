"""A card's DMs to its collaborators: the nudge to someone quiet on it, and "ask them
first" before it closes. Each is drawn from the database when it is sent, and dropped
when it no longer makes sense (the card closed, they left it, they muted nudges)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.posting import post_in_channel
from bot.outbox.sender import Sender, Sent, Work
from bot.services import collaborators, nudges
from bot.views.collaborators import ask_dm, nudge_dm


class NudgeSender(Sender):
    actions = frozenset({OutboxAction.CARD_NUDGE, OutboxAction.CARD_ASK})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        nudge = row.action == OutboxAction.CARD_NUDGE
        user_id = row.user_id or row.channel_id
        with work.read() as db:
            card = collaborators.still_asked(db, row.team_id, row.card_id or 0, user_id,
                                             nudge=nudge)
            if card is None:
                return Sent()
            body = nudge_dm(card, nudges.periods(db, [card])[card.id]) if nudge else \
                ask_dm(card, (row.payload or {}).get("by") or card.opened_by)
        return Sent(post_in_channel(slack, row, user_id, **body))
