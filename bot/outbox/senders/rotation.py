"""The rotation in Slack: the reminder, its updates, the DM with ideas, and the schedule
whose time zone had to be read from Slack first. Each is drawn from the database when it
is sent, so a pass or a skip made meanwhile is what people see."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage, Turn, utcnow
from bot.ids import OutboxAction
from bot.outbox.sender import Sender, Sent, Work, post_in_channel
from bot.services import rotation, turns
from bot.services.errors import UserError
from bot.services.schedule import Schedule
from bot.views.rotation import (
    idea_dm,
    reminder_message,
    schedule_confirmation,
    schedule_refused,
    schedule_without_zone,
)

log = logging.getLogger(__name__)

# Slack's answers to users.info that mean "this person cannot take a turn".
GONE = {"user_not_found", "user_not_visible", "account_inactive"}


class RotationSender(Sender):
    actions = frozenset({OutboxAction.ROTATION_REMINDER, OutboxAction.ROTATION_UPDATE,
                         OutboxAction.ROTATION_DM, OutboxAction.ROTATION_SCHEDULE})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        turn_id = (row.payload or {}).get("turn_id")
        if row.action == OutboxAction.ROTATION_REMINDER:
            return Sent(self._remind(slack, row, work, turn_id))
        if row.action == OutboxAction.ROTATION_UPDATE:
            with work.read() as db:
                turn = db.get(Turn, turn_id)
                if turn is None or not turn.message_ts:
                    return Sent()
                body, ts = reminder_message(turn), turn.message_ts
            slack.chat_update(channel=row.channel_id, ts=ts, **body)
            return Sent(ts)
        if row.action == OutboxAction.ROTATION_DM:
            with work.read() as db:
                turn = db.get(Turn, turn_id)
                if turn is None or not turns.still_up(turn, row.user_id, utcnow()):
                    return Sent()  # passed on, skipped or over meanwhile
                user_id, body = turn.user_id, idea_dm(turn, turns.ideas(db, turn))
            return Sent(slack.chat_postMessage(channel=user_id or "", **body)["ts"])
        self._schedule(slack, row, work)
        return Sent()

    def _remind(self, slack: WebClient, row: OutboxMessage, work: Work,
                turn_id: int | None) -> str | None:
        with work.read() as db:
            turn = db.get(Turn, turn_id)
            if turn is None or turn.message_ts:
                return turn.message_ts if turn else None  # already out: never twice
            if utcnow() >= turn.meeting_at:
                log.info("turn %s: the meeting began before Slack took the reminder", turn.id)
                return None
            up = turns.to_check(turn)
        # Pass over people Slack says are deactivated (or gone) until someone is not:
        # each answer first, then its write, so no transaction waits for Slack.
        while up and self._gone(slack, up):
            with work.write() as db:
                up = turns.pass_over_gone(db, turn.id, up)
        with work.read() as db:
            turn = db.get(Turn, turn.id)
            if turn is None:
                return None
            body = reminder_message(turn)
        return post_in_channel(slack, row.channel_id, **body)

    @staticmethod
    def _gone(slack: WebClient, user_id: str) -> bool:
        """Whether Slack says the person is deactivated, or no longer there."""
        try:
            return bool(slack.users_info(user=user_id)["user"].get("deleted"))
        except SlackApiError as error:
            if error.response.get("error") not in GONE:
                raise
            return True

    def _schedule(self, slack: WebClient, row: OutboxMessage, work: Work) -> None:
        """`schedule` without a time zone: read the caller's from Slack, apply it, and
        say how it went."""
        plan = dict(row.payload or {})
        try:
            tz_name = slack.users_info(user=row.user_id or "")["user"].get("tz")
        except SlackApiError as error:
            if error.response.get("error") not in GONE:
                raise
            tz_name = None
        text = self._apply(row, plan, tz_name, work) if tz_name else schedule_without_zone()
        slack.chat_postEphemeral(channel=row.channel_id, user=row.user_id or "", text=text)

    @staticmethod
    def _apply(row: OutboxMessage, plan: dict, tz_name: str, work: Work) -> str:
        wanted = Schedule(plan["days"], plan["meeting_time"], tz_name, plan["lead_minutes"])
        try:
            # Its own unit of work, before the Slack call that confirms it: what the
            # confirmation says depends on whether it was applied.
            with work.write() as db:
                rota = rotation.apply_schedule(db, row.team_id, row.channel_id,
                                               row.user_id or "", wanted)
                next_at = rota.next_meeting_at
        except UserError as error:
            return schedule_refused(str(error))
        return schedule_confirmation(wanted, next_at)

    def sent(self, db: Session, row: OutboxMessage, result: Sent) -> None:
        if row.action == OutboxAction.ROTATION_REMINDER and result.ts:
            # Keep its ts, then DM whoever it names.
            turns.reminder_posted(db, (row.payload or {}).get("turn_id"), result.ts)
