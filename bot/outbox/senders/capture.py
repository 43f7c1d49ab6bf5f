"""Captured learnings in Slack: the DM asking the speaker whether they may be named, and
that DM once answered. (The entry's message, redrawn with or without their name, is the
entries' UPDATE_ENTRY.) Each is drawn from the database when it is sent."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db.models import CaptureCredit, OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.posting import post
from bot.outbox.sender import Sender, Sent, Work
from bot.services import capture, entries
from bot.views.capture import speaker_answered, speaker_dm

log = logging.getLogger(__name__)


class CaptureSender(Sender):
    actions = frozenset({OutboxAction.CAPTURE_ASK, OutboxAction.CAPTURE_ANSWERED})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        if row.action == OutboxAction.CAPTURE_ASK:
            return self._ask(slack, row, work)
        payload = row.payload or {}
        body = speaker_answered(payload.get("choice", ""), payload.get("capture_id", 0))
        self._update(slack, row.channel_id, row.target_ts, body)
        return Sent(row.target_ts)

    @staticmethod
    def _ask(slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        with work.read() as db:
            entry = entries.get_entry(db, row.team_id, row.entry_id or 0)
            found = capture.of_entry(db, row.team_id, row.entry_id or 0) if entry else None
            if entry is None or found is None or found.credit != CaptureCredit.ASKED \
                    or found.asked_ts:
                return Sent(found.asked_ts if found else None)  # moot, or asked already
            body = speaker_dm(entry, found.id, capturer_named=not entry.anonymous)
        posted = post(slack, row, row.user_id or row.channel_id, **body)
        return Sent(posted.ts, channel=posted.channel)

    @staticmethod
    def _update(slack: WebClient, channel: str, ts: str | None, body: dict) -> None:
        try:
            slack.chat_update(channel=channel, ts=ts or "", **body)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
            log.info("capture: the message to update is gone")

    def sent(self, db: Session, row: OutboxMessage, result: Sent) -> None:
        if row.action == OutboxAction.CAPTURE_ASK and result.ts:
            capture.asked(db, row.team_id, row.entry_id or 0, result.channel, result.ts)
