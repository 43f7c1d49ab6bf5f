"""Outbox handlers for cards and exports: each renders from the database at send time.

`Delivery` (bot/delivery.py) registers them; like its own handlers each makes its Slack
call and returns the `ts` (or file id) it produced, and records on the card what Slack
now shows, so a retried row never posts twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Card, OutboxMessage
from bot.ids import OutboxAction
from bot.services import cards, export, outbox
from bot.views.cards import card_debrief, card_message
from bot.views.export import EXTENSIONS, render

log = logging.getLogger(__name__)

Handler = Callable[[WebClient, OutboxMessage], str | None]


def post_in_channel(client: WebClient, channel: str, **body: object) -> str:
    """chat.postMessage; in a public channel the bot is not in, join it and post again."""
    try:
        response = client.chat_postMessage(channel=channel, **body)
    except SlackApiError as error:
        if error.response.get("error") != "not_in_channel":
            raise
        client.conversations_join(channel=channel)
        response = client.chat_postMessage(channel=channel, **body)
    return str(response["ts"])


def slack_failed(error: str, gave_up: bool) -> str:
    """Why a send failed for good, in the notice: Slack refused it, or kept failing."""
    if gave_up:
        return f"Slack kept failing; it last said `{error}`"
    return f"Slack said `{error}`"


def failure_notice(row: OutboxMessage, error: str, *, gave_up: bool = False) -> str | None:
    """What to tell the person who asked, when a card or export row fails for good:
    refused by Slack (an invitation may help) or `gave_up` after every retry."""
    where = f"<#{row.channel_id}>"
    why = slack_failed(error, gave_up)
    invite = "Try again in a while" if gave_up else "Invite me with `/invite @Debrief`"
    if row.action == OutboxAction.POST_CARD:
        return (f"I could not post your card (ID {row.card_id}) in {where} ({why}). "
                f"{invite}, then open it again with `/debrief card`.")
    if row.action == OutboxAction.POST_CARD_DEBRIEF:
        return (f"I could not post the debrief of card {row.card_id} in {where} ({why}). "
                "Everything on it is saved; `/debrief export` has it too.")
    if row.action == OutboxAction.UPLOAD_EXPORT:
        return (f"I could not share the export in {where} ({why}). "
                f"{invite}, and run `/debrief export` again.")
    return None


class NotYet(Exception):
    """The row depends on a message not posted yet (a card's): try again later."""


def card_thread(db: Session, card: Card) -> str | None:
    """The card's message, to reply in its thread; None when the card could never be
    posted (post in the channel instead). NotYet while its own post is still queued."""
    if card.message_ts is None and outbox.card_on_its_way(db, card.team_id, card.id):
        raise NotYet(f"card {card.id} is not posted yet")
    return card.message_ts


class CardSender:
    """Posts a card, refreshes its tallies (skipped when Slack shows the newest revision),
    and posts its debrief in its thread."""

    def __init__(self, db: Database):
        self.db = db

    def handlers(self) -> dict[str, Handler]:
        return {
            OutboxAction.POST_CARD: self.post_card,
            OutboxAction.UPDATE_CARD: self.update_card,
            OutboxAction.POST_CARD_DEBRIEF: self.post_debrief,
        }

    def _render(self, message: OutboxMessage) -> tuple[Card, int, dict] | None:
        with self.db.session() as db:
            card = cards.get_card(db, message.team_id, message.card_id or 0)
            if card is None:
                return None
            return card, card.revision, card_message(card, cards.tally(db, card))

    def _shown(self, card: Card, revision: int, ts: str | None = None) -> None:
        with self.db.session() as db:
            if ts is not None:
                row = cards.get_card(db, card.team_id, card.id)
                if row is not None and row.message_ts is None:
                    row.message_ts = ts
                db.flush()
            cards.shown(db, card.team_id, card.id, revision)
            db.commit()

    def post_card(self, client: WebClient, message: OutboxMessage) -> str | None:
        rendered = self._render(message)
        if rendered is None:
            return None
        card, revision, body = rendered
        if card.message_ts is not None:
            return card.message_ts  # posted already (a retry after a lost answer)
        ts = post_in_channel(client, card.channel_id, **body)
        # Anything that changed while this was being drawn is caught by a refresh.
        self._shown(card, revision, ts)
        return ts

    def update_card(self, client: WebClient, message: OutboxMessage) -> str | None:
        rendered = self._render(message)
        if rendered is None:
            return None
        card, revision, body = rendered
        if card.message_ts is None or card.shown_revision >= revision:
            # Not posted yet (its post draws the newest tallies) or nothing new to show.
            return None
        try:
            client.chat_update(channel=card.channel_id, ts=card.message_ts, **body)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
            log.warning("card %s: its message was deleted; not refreshed", card.id)
            return None
        self._shown(card, revision)
        return card.message_ts

    def post_debrief(self, client: WebClient, message: OutboxMessage) -> str | None:
        with self.db.session() as db:
            card = cards.get_card(db, message.team_id, message.card_id or 0)
            if card is None:
                return None
            thread = card_thread(db, card)
            body = card_debrief(card, cards.debrief(db, card), cards.card_applause(db, card))
        if thread is None:
            return post_in_channel(client, card.channel_id, **body)
        # In the card's thread, and shown in the channel too: the debrief is for everyone.
        return post_in_channel(client, card.channel_id, thread_ts=thread,
                               reply_broadcast=True, **body)


class ExportSender:
    """Uploads a channel's export with files_upload_v2, drawn from the database when sent."""

    def __init__(self, db: Database):
        self.db = db

    def handlers(self) -> dict[str, Handler]:
        return {OutboxAction.UPLOAD_EXPORT: self.upload}

    def upload(self, client: WebClient, message: OutboxMessage) -> str | None:
        fmt = (message.payload or {}).get("format", "csv")
        with self.db.session() as db:
            rows = export.channel_entries(db, message.team_id, message.channel_id)
        now = datetime.now(UTC)
        filename = f"debrief-{message.channel_id}-{now:%Y-%m-%d}.{EXTENSIONS[fmt]}"
        names = self._names(client, {row.author_id for row in rows if row.author_id})
        content = render(fmt, rows, message.channel_id, names).encode()

        def send() -> dict:
            return client.files_upload_v2(
                channel=message.channel_id, filename=filename, content=content,
                title=f"Debrief entries of this channel ({len(rows)})",
                initial_comment=f"<@{message.user_id}> exported this channel's "
                                f"{len(rows)} team-visible entries.",
            )["file"]

        try:
            file = send()
        except SlackApiError as error:
            if error.response.get("error") != "not_in_channel":
                raise
            client.conversations_join(channel=message.channel_id)
            file = send()
        return str(file.get("id") or "")[:32] or None

    @staticmethod
    def _names(client: WebClient, user_ids: set[str]) -> dict[str, str]:
        """Display names for the file (users.info, Tier 4); an unknown one stays blank."""
        names = {}
        for user_id in sorted(user_ids):
            try:
                user = client.users_info(user=user_id)["user"]
            except SlackApiError as error:
                log.info("export: no name for an author (%s)", error.response.get("error"))
                continue
            profile = user.get("profile") or {}
            names[user_id] = (profile.get("display_name") or profile.get("real_name")
                              or user.get("real_name") or user.get("name") or "")
        return names
