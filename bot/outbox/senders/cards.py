"""Cards in Slack: a card's message, the refresh of its tallies (skipped when Slack shows
the newest revision already), and its debrief in its thread. Each is drawn from the
database when it is sent; what Slack then shows is recorded with the row, so a retried
row never posts twice."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db.models import CardStatus, OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.posting import post_in_channel
from bot.outbox.retry import NotYet
from bot.outbox.sender import Sender, Sent, Work, tell
from bot.services import cards, collaborators, opportunities
from bot.views.cards import card_debrief, card_message
from bot.views.checkback import with_loop
from bot.views.collaborators import card_people, contributors_line
from bot.views.outbox import card_not_posted, debrief_not_posted

log = logging.getLogger(__name__)


class CardSender(Sender):
    actions = frozenset({OutboxAction.POST_CARD, OutboxAction.UPDATE_CARD,
                         OutboxAction.POST_CARD_DEBRIEF, OutboxAction.UPDATE_CARD_DEBRIEF})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        if row.action == OutboxAction.POST_CARD_DEBRIEF:
            return Sent(self._post_debrief(slack, row, work))
        if row.action == OutboxAction.UPDATE_CARD_DEBRIEF:
            return Sent(self._update_debrief(slack, row, work))
        with work.read() as db:
            card = cards.get_card(db, row.team_id, row.card_id or 0)
            if card is None:
                return Sent()
            people = card_people(card, collaborators.progress(db, card),
                                 open_=card.status == CardStatus.OPEN)
            revision, body = card.revision, card_message(card, cards.tally(db, card), people)
        if row.action == OutboxAction.POST_CARD:
            if card.message_ts is not None:
                return Sent(card.message_ts)  # posted already (a retry after a lost answer)
            # Anything that changes while this is being drawn is caught by a refresh.
            return Sent(post_in_channel(slack, row, card.channel_id, **body), revision)
        if card.message_ts is None or card.shown_revision >= revision:
            # Not posted yet (its post draws the newest tallies) or nothing new to show.
            return Sent()
        try:
            slack.chat_update(channel=card.channel_id, ts=card.message_ts, **body)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
            log.warning("card %s: its message was deleted; not refreshed", card.id)
            return Sent()
        return Sent(card.message_ts, revision)

    @staticmethod
    def _post_debrief(slack: WebClient, row: OutboxMessage, work: Work) -> str | None:
        with work.read() as db:
            card = cards.get_card(db, row.team_id, row.card_id or 0)
            if card is None:
                return None
            thread = cards.reply_thread(db, card)
            items = cards.debrief(db, card)
            body = with_loop(card_debrief(card, items, cards.card_applause(db, card),
                                          thanks=contributors_line(items)),
                             opportunities.card_loop(db, card))
        if thread is None:
            return post_in_channel(slack, row, card.channel_id, **body)
        # In the card's thread, and shown in the channel too: the debrief is for everyone.
        return post_in_channel(slack, row, card.channel_id, thread_ts=thread,
                               reply_broadcast=True, **body)

    @staticmethod
    def _update_debrief(slack: WebClient, row: OutboxMessage, work: Work) -> str | None:
        """A posted debrief drawn again (an entry on the card was edited or deleted)."""
        with work.read() as db:
            card = cards.get_card(db, row.team_id, row.card_id or 0)
            if card is None:
                return None
            ts, on_its_way = cards.debrief_message(db, card)
            if ts is None:
                if on_its_way:  # perhaps drawn before the change: update it after
                    raise NotYet(f"the debrief of card {card.id} is not posted yet")
                return None
            body = card_debrief(card, cards.debrief(db, card), cards.card_applause(db, card))
        try:
            slack.chat_update(channel=card.channel_id, ts=ts, **body)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
            return None
        return ts

    def sent(self, db: Session, row: OutboxMessage, result: Sent) -> None:
        if result.revision is None or row.card_id is None:
            return
        posted = result.ts if row.action == OutboxAction.POST_CARD else None
        cards.shown(db, row.team_id, row.card_id, result.revision, message_ts=posted)

    def failed(self, db: Session, row: OutboxMessage, error: str, *, gave_up: bool) -> None:
        if row.action in (OutboxAction.UPDATE_CARD, OutboxAction.UPDATE_CARD_DEBRIEF):
            return  # the next change queues another refresh
        if row.user_id:
            notice = card_not_posted if row.action == OutboxAction.POST_CARD \
                else debrief_not_posted
            tell(db, row, row.user_id,
                 notice(row.card_id, row.channel_id, error, gave_up=gave_up))
        if row.action == OutboxAction.POST_CARD and row.card_id is not None:
            # Never shown: close it, so its title is free to open again and entries
            # meant for it are posted in the channel instead.
            cards.abandon(db, row.team_id, row.card_id)
