"""A card's DMs to its collaborators: the nudge to someone quiet on it, and "ask them
first" before it closes. Each is drawn from the database when it is sent, and dropped
when it no longer makes sense (the card closed, they left it, they muted nudges).

And what their nudges need first: the collaborator's Slack time zone (users.info),
asked with no transaction open, then kept and their nudges planned again in its own unit
of work (services/nudges.learn_zone)."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.sender import Sender, Sent, Work
from bot.outbox.senders.checkback import NO_ZONE
from bot.services import collaborators, nudges
from bot.views.collaborators import ask_dm, nudge_dm


class NudgeSender(Sender):
    actions = frozenset({OutboxAction.CARD_NUDGE, OutboxAction.CARD_ASK,
                         OutboxAction.CARD_ZONE})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        nudge = row.action == OutboxAction.CARD_NUDGE
        user_id = row.user_id or row.channel_id
        if row.action == OutboxAction.CARD_ZONE:
            self._learn_zone(slack, row.team_id, user_id, work)
            return Sent()
        with work.read() as db:
            card = collaborators.still_asked(db, row.team_id, row.card_id or 0, user_id,
                                             nudge=nudge)
            if card is None:
                return Sent()
            body = nudge_dm(card, nudges.periods(db, [card])[card.id]) if nudge else \
                ask_dm(card, (row.payload or {}).get("by") or card.opened_by)
        return Sent(slack.chat_postMessage(channel=user_id, **body)["ts"])

    @staticmethod
    def _learn_zone(slack: WebClient, team_id: str, user_id: str, work: Work) -> None:
        with work.read() as db:
            if not nudges.zone_wanted(db, team_id, user_id):
                return  # learned already (asked twice), or off every card
        try:
            tz_name = slack.users_info(user=user_id)["user"].get("tz")
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500 \
                    or error.response.get("error") not in NO_ZONE:
                raise
            tz_name = None  # nothing to learn: their nudges keep to the fallback
        with work.write() as db:
            nudges.learn_zone(db, team_id, user_id, tz_name)
