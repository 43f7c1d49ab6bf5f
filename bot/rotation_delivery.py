"""Sending the rotation's outbox rows: reminder, its updates, the DM, notices, and the
schedule whose time zone had to be read from Slack first. Each renders from the database
at send time, so a pass or a skip made meanwhile is what people see."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import (
    Entry,
    Kind,
    OutboxMessage,
    Rotation,
    RotationMember,
    Turn,
    TurnStatus,
    utcnow,
)
from bot.ids import OutboxAction
from bot.senders import post_in_channel
from bot.services import outbox, rotation, turns
from bot.services.errors import UserError
from bot.services.schedule import Schedule
from bot.views.rotation import idea_dm, reminder_message, schedule_confirmation

log = logging.getLogger(__name__)

IDEAS = 3
# Slack's answers to users.info that mean "this person cannot take a turn".
GONE = {"user_not_found", "user_not_visible", "account_inactive"}


class RotationSender:
    def __init__(self, db: Database):
        self.db = db

    def handlers(self) -> dict[str, Callable[[WebClient, OutboxMessage], str | None]]:
        return {
            OutboxAction.ROTATION_REMINDER: self.post_reminder,
            OutboxAction.ROTATION_UPDATE: self.update_reminder,
            OutboxAction.ROTATION_DM: self.send_dm,
            OutboxAction.ROTATION_NOTICE: self.notice,
            OutboxAction.ROTATION_SCHEDULE: self.schedule,
        }

    def record(self, db: Session, message: OutboxMessage, ts: str | None) -> None:
        """After a reminder is posted: keep its ts, then DM whoever it names."""
        if message.action != OutboxAction.ROTATION_REMINDER or not ts:
            return
        turn = db.get(Turn, (message.payload or {}).get("turn_id"))
        if turn is None:
            return
        turn.message_ts = ts
        if turn.user_id and turn.status in turns.OPEN:
            outbox.enqueue(db, team_id=turn.team_id, action=OutboxAction.ROTATION_DM,
                           channel_id=turn.user_id, user_id=turn.user_id,
                           payload={"turn_id": turn.id})

    # --- handlers ---

    def post_reminder(self, client: WebClient, message: OutboxMessage) -> str | None:
        turn_id = (message.payload or {}).get("turn_id")
        with self.db.session() as db:
            turn = db.get(Turn, turn_id)
            if turn is None or turn.message_ts:
                return turn.message_ts if turn else None  # already out: never twice
            if utcnow() >= turn.meeting_at:
                log.info("turn %s: the meeting began before Slack took the reminder", turn.id)
                return None
            self._check_person(client, db, turn)
            db.commit()
            body = reminder_message(turn)
        return post_in_channel(client, message.channel_id, **body)

    def _check_person(self, client: WebClient, db: Session, turn: Turn) -> None:
        """Pass over people Slack says are deactivated (or gone) until someone is not."""
        while turn.user_id and turn.status == TurnStatus.REMINDED:
            try:
                user = client.users_info(user=turn.user_id)["user"]
                gone = bool(user.get("deleted"))
            except SlackApiError as error:
                if error.response.get("error") not in GONE:
                    raise
                gone = True
            if not gone:
                return
            found = db.scalar(select(RotationMember).where(
                RotationMember.rotation_id == turn.rotation_id,
                RotationMember.user_id == turn.user_id))
            if found is not None:
                found.deactivated = True
            db.flush()
            rota = db.get(Rotation, turn.rotation_id)
            turn.user_id = turns.choose(db, rota, turn.meeting_date, exclude=turn.passed_by) \
                if rota else None
            if turn.user_id is None:
                turn.status = TurnStatus.MISSED

    def update_reminder(self, client: WebClient, message: OutboxMessage) -> str | None:
        with self.db.session() as db:
            turn = db.get(Turn, (message.payload or {}).get("turn_id"))
            if turn is None or not turn.message_ts:
                return None
            body, ts = reminder_message(turn), turn.message_ts
        client.chat_update(channel=message.channel_id, ts=ts, **body)
        return ts

    def send_dm(self, client: WebClient, message: OutboxMessage) -> str | None:
        with self.db.session() as db:
            turn = db.get(Turn, (message.payload or {}).get("turn_id"))
            if turn is None or turn.user_id != message.user_id or turn.status not in turns.OPEN \
                    or utcnow() >= turn.meeting_at:
                return None  # passed on, skipped or over meanwhile
            # Only the person's own entries: a DM is private to them, so their private and
            # anonymous entries may be ideas too; nobody else's ever are.
            ideas = list(db.scalars(select(Entry).where(
                Entry.team_id == turn.team_id, Entry.author_id == turn.user_id,
                Entry.kind.in_([Kind.LESSON.value, Kind.OPPORTUNITY.value, Kind.WIN.value]))
                .order_by(Entry.created_at.desc(), Entry.id.desc()).limit(IDEAS)))
            body = idea_dm(turn, ideas)
        response = client.chat_postMessage(channel=turn.user_id, **body)
        return response["ts"]

    def notice(self, client: WebClient, message: OutboxMessage) -> str | None:
        client.chat_postEphemeral(channel=message.channel_id, user=message.user_id,
                                  text=(message.payload or {}).get("text", ""))
        return None

    def schedule(self, client: WebClient, message: OutboxMessage) -> str | None:
        """`schedule` without a time zone: read the caller's from Slack, then apply it."""
        plan = dict(message.payload or {})
        try:
            tz_name = client.users_info(user=message.user_id)["user"].get("tz")
        except SlackApiError as error:
            if error.response.get("error") not in GONE:
                raise
            tz_name = None
        text = self._apply(message, plan, tz_name)
        client.chat_postEphemeral(channel=message.channel_id, user=message.user_id, text=text)
        return None

    def _apply(self, message: OutboxMessage, plan: dict, tz_name: str | None) -> str:
        if not tz_name:
            return (":warning: I could not read your Slack time zone, so the schedule is "
                    "unchanged. Name one: `/debrief rotation schedule mon 09:30 Europe/Berlin`.")
        wanted = Schedule(plan["days"], plan["meeting_time"], tz_name, plan["lead_minutes"])
        with self.db.session() as db:
            try:
                rota = rotation.apply_schedule(db, message.team_id, message.channel_id,
                                               message.user_id or "", wanted)
            except UserError as error:
                return f":warning: {error} The schedule is unchanged."
            db.commit()
            return schedule_confirmation(wanted, rota.next_meeting_at)

