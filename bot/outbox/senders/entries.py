"""Entries in Slack: an entry's channel message (in its card's thread when it has one),
the author's confirmation, the "have we learned this before?" ephemeral (the look back:
lessons, people, docs), and taking a message down again. Each is drawn from the database
when it is sent."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.sender import Sender, Sent, Work, post_in_channel, tell
from bot.services import cards, entries, lookback
from bot.services.lookback import LookBack
from bot.views.entries import confirmation, entry_message
from bot.views.lookback import lookback_blocks, lookback_text
from bot.views.outbox import entry_not_posted


class EntrySender(Sender):
    actions = frozenset({OutboxAction.POST_ENTRY, OutboxAction.CONFIRM_ENTRY,
                         OutboxAction.RELATED_LESSONS, OutboxAction.DELETE_MESSAGE})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        if row.action == OutboxAction.POST_ENTRY:
            return Sent(self._post(slack, row, work))
        if row.action == OutboxAction.DELETE_MESSAGE:
            return Sent(self._delete(slack, row))
        self._tell_author(slack, row, work)
        return Sent()

    def _post(self, slack: WebClient, row: OutboxMessage, work: Work) -> str | None:
        with work.read() as db:
            entry = entries.get_entry(db, row.team_id, row.entry_id or 0)
            card = cards.get_card(db, row.team_id, entry.card_id) \
                if entry is not None and entry.card_id is not None else None
            thread = cards.reply_thread(db, card) if card is not None else None
        if entry is None:
            return None  # deleted before it was posted: nothing to show
        if card is None or thread is None:
            return post_in_channel(slack, row.channel_id, **entry_message(entry))
        # An entry on a card is a reply in the card's thread.
        return post_in_channel(slack, row.channel_id, thread_ts=thread,
                               **entry_message(entry, card.title))

    def _tell_author(self, slack: WebClient, row: OutboxMessage, work: Work) -> None:
        """The confirmation (with the look back) or the look back alone, found when sent:
        earlier entries that look like this one, among what its author sees, who learned
        them and their docs (bot/services/lookback.py)."""
        work.index_pending()
        with work.read() as db:
            entry = entries.get_entry(db, row.team_id, row.entry_id or 0)
            found = lookback.for_entry(db, entry) if entry is not None else LookBack()
        if entry is None:
            return
        looked = lookback_blocks(found, entry.author_id, row.team_id)
        if row.action == OutboxAction.CONFIRM_ENTRY:
            said = confirmation(entry)
            text = said + ("\n" + lookback_text(found, entry.author_id) if looked else "")
            blocks = [SectionBlock(text=MarkdownTextObject(text=said)), *looked]
        elif looked:
            text, blocks = lookback_text(found, entry.author_id), looked
        else:
            return  # nothing related: nothing to say
        slack.chat_postEphemeral(channel=row.channel_id, user=entry.author_id, text=text,
                                 blocks=[b.to_dict() for b in blocks])

    @staticmethod
    def _delete(slack: WebClient, row: OutboxMessage) -> str | None:
        try:
            slack.chat_delete(channel=row.channel_id, ts=row.target_ts)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
        return row.target_ts

    def sent(self, db: Session, row: OutboxMessage, result: Sent) -> None:
        if row.action == OutboxAction.POST_ENTRY and result.ts:
            entries.record_message(db, row.team_id, row.entry_id or 0, row.channel_id,
                                   result.ts)

    def failed(self, db: Session, row: OutboxMessage, error: str, *, gave_up: bool) -> None:
        if row.action != OutboxAction.POST_ENTRY or row.entry_id is None:
            return
        entry = entries.get_entry(db, row.team_id, row.entry_id)
        if entry is not None:
            tell(db, row, entry.author_id,
                 entry_not_posted(entry.id, row.channel_id, error, gave_up=gave_up))
