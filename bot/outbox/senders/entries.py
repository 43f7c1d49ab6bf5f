"""Entries in Slack: an entry's channel message (in its card's thread when it has one)
and its permalink, the author's confirmation, the "have we learned this before?"
ephemeral (the look back: lessons, people, docs), an edited entry's message drawn again,
and taking a message down. Each is drawn from the database when it is sent."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.web import SlackResponse
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage
from bot.directory import ask_channels, ask_user
from bot.ids import OutboxAction
from bot.outbox.posting import EVENT_TYPE, permalink, post_in_channel
from bot.outbox.retry import NotYet
from bot.outbox.sender import Sender, Sent, Work, tell
from bot.services import access, capture, cards, entries, lookback, opportunities
from bot.services.lookback import LookBack
from bot.views.capture import with_credit
from bot.views.entries import confirmation, entry_message
from bot.views.lookback import lookback_blocks, lookback_text
from bot.views.outbox import edit_not_shown, entry_not_posted


class EntrySender(Sender):
    actions = frozenset({OutboxAction.POST_ENTRY, OutboxAction.CONFIRM_ENTRY,
                         OutboxAction.RELATED_LESSONS, OutboxAction.DELETE_MESSAGE,
                         OutboxAction.UPDATE_ENTRY, OutboxAction.SWEEP_DUPLICATES})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        if row.action == OutboxAction.POST_ENTRY:
            ts = self._post(slack, row, work)
            return Sent(ts, link=permalink(slack, row.channel_id, ts) if ts else None)
        if row.action == OutboxAction.UPDATE_ENTRY:
            return Sent(self._update(slack, row, work))
        if row.action == OutboxAction.SWEEP_DUPLICATES:
            return Sent(str(sweep_duplicates(slack, row)))
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
            credit = capture.credit_for(db, entry) if entry is not None else None
            # A lesson that follows an opportunity goes in the opportunity's thread.
            follows = opportunities.thread_for(db, entry) \
                if entry is not None and card is None else None
        if entry is None:
            return None  # deleted before it was posted: nothing to show
        if card is None or thread is None:
            body = with_credit(entry_message(entry), credit)
            if follows is not None:
                return post_in_channel(slack, row, row.channel_id, thread_ts=follows, **body)
            return post_in_channel(slack, row, row.channel_id, **body)
        # An entry on a card is a reply in the card's thread.
        return post_in_channel(slack, row, row.channel_id, thread_ts=thread,
                               **with_credit(entry_message(entry, card.title), credit))

    @staticmethod
    def _update(slack: WebClient, row: OutboxMessage, work: Work) -> str | None:
        """An edited entry's message, drawn anew. chat.update keeps the message's ts, so
        the reactions on it, and the applause they are, stay where they are."""
        with work.read() as db:
            entry = entries.get_entry(db, row.team_id, row.entry_id or 0)
            if entry is None:
                return None  # deleted since: its message goes with it
            channel, ts = entry.message_channel_id, entry.message_ts
            if channel is None or ts is None:
                if entries.post_on_its_way(db, entry):
                    # Being posted now, perhaps drawn before the edit: update it after.
                    raise NotYet(f"entry {entry.id} is not posted yet")
                return None  # never posted (or refused for good): nothing to update
            card = cards.get_card(db, row.team_id, entry.card_id) \
                if entry.card_id is not None else None
            # A captured entry's credit line too: redrawn after its speaker answers.
            body = with_credit(entry_message(entry, card.title if card is not None else None),
                               capture.credit_for(db, entry))
        try:
            slack.chat_update(channel=channel, ts=ts, **body)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
            return None  # someone deleted the message in Slack: nothing to update
        return ts

    def _tell_author(self, slack: WebClient, row: OutboxMessage, work: Work) -> None:
        """The confirmation (with the look back) or the look back alone, found when sent:
        earlier entries that look like this one, among what its author sees, who learned
        them and their docs (bot/services/lookback.py)."""
        # What the author may read, as Slack says now (before any session: no lock is
        # held while Slack answers); without an answer, their own and this channel's only.
        author = row.user_id or ""
        try:
            channels: frozenset[str] | None = ask_channels(slack, author)
            guest: bool | None = access.is_guest(ask_user(slack, author))
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500:
                raise
            channels, guest = None, None
        work.index_pending()
        with work.read() as db:
            entry = entries.get_entry(db, row.team_id, row.entry_id or 0)
            found = lookback.for_entry(db, entry, channels=channels, guest=guest) \
                if entry is not None else LookBack()
        if entry is None:
            return
        looked = lookback_blocks(found, entry.author_id, row.team_id)
        if row.action == OutboxAction.CONFIRM_ENTRY:
            said = confirmation(entry)
            text = said + ("\n" + lookback_text(found, entry.author_id) if looked else "")
            blocks = [SectionBlock(text=MarkdownTextObject(text=said, verbatim=True)), *looked]
        elif looked:
            text, blocks = lookback_text(found, entry.author_id), looked
        else:
            return  # nothing related: nothing to say
        slack.chat_postEphemeral(channel=row.channel_id, user=entry.author_id, text=text,
                                 blocks=[b.to_dict() for b in blocks])

    @staticmethod
    def _delete(slack: WebClient, row: OutboxMessage) -> str | None:
        try:
            slack.chat_delete(channel=row.channel_id, ts=row.target_ts or "")
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
        return row.target_ts

    def sent(self, db: Session, row: OutboxMessage, result: Sent) -> None:
        if row.action == OutboxAction.POST_ENTRY and result.ts:
            entries.record_message(db, row.team_id, row.entry_id or 0, row.channel_id,
                                   result.ts, permalink=result.link)

    def failed(self, db: Session, row: OutboxMessage, error: str, *, gave_up: bool) -> None:
        if row.action not in (OutboxAction.POST_ENTRY, OutboxAction.UPDATE_ENTRY) \
                or row.entry_id is None:
            return
        entry = entries.get_entry(db, row.team_id, row.entry_id)
        if entry is None:
            return
        if row.action == OutboxAction.UPDATE_ENTRY and not row.user_id:
            return  # drawn again for someone else's sake (forget-me): nobody to tell
        notice = entry_not_posted if row.action == OutboxAction.POST_ENTRY else edit_not_shown
        tell(db, row, entry.author_id, notice(entry.id, row.channel_id, error, gave_up=gave_up))


# Pages of 200 messages read at most per channel or thread when sweeping.
SWEEP_PAGES = 50


def sweep_duplicates(slack: WebClient, row: OutboxMessage) -> int:
    """Delete every message in the channel (and in the card threads named) whose metadata
    names one of the entries: copies the bot posted but never learned of. How many."""
    payload = row.payload or {}
    wanted = set(payload.get("entry_ids") or [])
    known = set(payload.get("known") or [])  # the copies the bot knows: deleted already
    oldest = str(payload.get("oldest") or "0")
    def history(cursor: str | None) -> SlackResponse:
        return slack.conversations_history(channel=row.channel_id, oldest=oldest,
                                           include_all_metadata=True, limit=200, cursor=cursor)

    def replies(thread: str) -> Callable[[str | None], SlackResponse]:
        return lambda cursor: slack.conversations_replies(
            channel=row.channel_id, ts=thread, include_all_metadata=True, limit=200,
            cursor=cursor)

    reads = [history, *(replies(thread) for thread in payload.get("threads") or [])]
    deleted = 0
    for read in reads:
        cursor = None
        for _ in range(SWEEP_PAGES):
            page = read(cursor)
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == EVENT_TYPE and message["ts"] not in known \
                        and (metadata.get("event_payload") or {}).get("entry_id") in wanted:
                    try:
                        slack.chat_delete(channel=row.channel_id, ts=message["ts"])
                        deleted += 1
                    except SlackApiError as error:
                        if error.response.get("error") != "message_not_found":
                            raise
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    return deleted
