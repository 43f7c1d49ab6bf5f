"""Check-backs in Slack: the note saying when I'll ask (after the author's time zone is
learned from Slack, so the ask comes at their local hour), the ask itself by DM, and that
DM once answered. Each is drawn from the database when it is sent."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.posting import post
from bot.outbox.sender import Sender, Sent, Work
from bot.services import checkback, entries
from bot.views.checkback import answered_dm, ask_dm, planned

log = logging.getLogger(__name__)

# users.info answers that mean "no zone to learn"; the plan then stays in UTC.
NO_ZONE = {"user_not_found", "user_not_visible", "account_inactive", "missing_scope"}


class CheckBackSender(Sender):
    actions = frozenset({OutboxAction.CHECKBACK_PLANNED, OutboxAction.CHECKBACK_ASK,
                         OutboxAction.CHECKBACK_ANSWERED})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        if row.action == OutboxAction.CHECKBACK_PLANNED:
            self._planned(slack, row, work)
            return Sent()
        with work.read() as db:
            found = checkback.for_dm(db, row.team_id, row.entry_id or 0) \
                if row.action == OutboxAction.CHECKBACK_ASK else None
            if row.action == OutboxAction.CHECKBACK_ASK:
                if found is None:
                    return Sent()  # answered, dropped or erased before it went out
                body = ask_dm(*found)
            else:
                check = checkback.of_entry(db, row.team_id, row.entry_id or 0)
                entry = entries.get_entry(db, row.team_id, row.entry_id or 0)
                if check is None or entry is None:
                    return Sent()
                body = answered_dm(check, entry)
        if row.action == OutboxAction.CHECKBACK_ASK:
            posted = post(slack, row, row.user_id or row.channel_id, **body)
            return Sent(posted.ts, channel=posted.channel)
        try:
            slack.chat_update(channel=row.channel_id, ts=row.target_ts or "", **body)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
        return Sent(row.target_ts)

    @staticmethod
    def _planned(slack: WebClient, row: OutboxMessage, work: Work) -> None:
        try:
            tz_name = slack.users_info(user=row.user_id or "")["user"].get("tz")
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500 \
                    or error.response.get("error") not in NO_ZONE:
                raise
            tz_name = None
        # Its own unit of work, before the note that says the time it computed.
        with work.write() as db:
            check = checkback.learn_zone(db, row.team_id, row.entry_id or 0, tz_name)
            entry = entries.get_entry(db, row.team_id, row.entry_id or 0)
            body = planned(check, entry) if check is not None and entry is not None else None
        if body is None:
            return  # deleted meanwhile
        try:
            slack.chat_postEphemeral(channel=row.channel_id, user=row.user_id or "", **body)
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429 or status >= 500:
                raise
            # Not in that channel (a private one, say): the note comes by DM instead.
            log.info("check-back note by DM: %s", error.response.get("error"))
            post(slack, row, row.user_id or row.channel_id, **body)

    def sent(self, db: Session, row: OutboxMessage, result: Sent) -> None:
        if row.action == OutboxAction.CHECKBACK_ASK and result.ts:
            checkback.dm_sent(db, row.team_id, row.entry_id or 0, result.channel, result.ts)
