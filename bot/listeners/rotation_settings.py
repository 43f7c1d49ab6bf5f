"""The rotation settings modal (`/debrief rotation` with no words): checked field by field;
a bad field keeps the modal open with everything as typed, and nothing changes. Its time
zone and holiday country are searchable selects: their options come from `options`."""

from __future__ import annotations

import json

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.ids import Action, Block, OutboxAction
from bot.listeners.unit import workspace
from bot.services import outbox, places, rotation, schedule
from bot.services.errors import UserError
from bot.services.schedule import Schedule
from bot.views.rotation import (
    NO_HOLIDAYS,
    YOUR_ZONE,
    country_options,
    schedule_confirmation,
    zone_options,
)


def submit_settings(ack: Ack, body: dict, view: dict, context: BoltContext,
                    client: WebClient) -> None:
    values = view["state"]["values"]

    def state(block: str) -> dict:
        return values.get(block, {}).get(Action.ROTATION_INPUT, {})

    db = context["db"]
    user_id = body["user"]["id"]
    team_id = workspace(context)
    channel_id = str(json.loads(view.get("private_metadata") or "{}").get("channel_id", ""))
    # The channel the form was opened in, checked against who submits it, now: a member
    # of it who is not a guest. Asked of Slack before the database is touched.
    directory = context["deps"].directory
    rotation.may_change(directory.person(client, team_id, user_id),
                        directory.channels(client, team_id, user_id), channel_id)
    errors: dict[str, str] = {}
    users = state(Block.ROTATION_MEMBERS).get("selected_users") or []
    days = "".join(sorted(o["value"] for o in state(Block.ROTATION_DAYS).get("selected_options")
                          or []))
    if not users:
        errors[Block.ROTATION_MEMBERS] = "Choose at least one person."
    if not days:
        errors[Block.ROTATION_DAYS] = "Choose at least one day."
    checks = [(Block.ROTATION_TIME, lambda: schedule.parse_time(
                  state(Block.ROTATION_TIME).get("selected_time") or "")),
              (Block.ROTATION_TZ, lambda: schedule.zone(tz) if tz else None),
              (Block.ROTATION_LEAD, lambda: schedule.parse_lead(lead)),
              (Block.ROTATION_HOLIDAYS, lambda: schedule.country(country) if country else None)]
    tz: str = _picked(state(Block.ROTATION_TZ), YOUR_ZONE)
    lead: str = (state(Block.ROTATION_LEAD).get("value") or "").strip()
    country: str = _picked(state(Block.ROTATION_HOLIDAYS), NO_HOLIDAYS)
    for block, check in checks:
        try:
            check()
        except UserError as error:
            errors[block] = str(error).replace("`", "")[:150]
    if errors:
        ack(response_action="errors", errors=errors)  # the modal stays, as filled in
        return
    meeting_time = schedule.parse_time(state(Block.ROTATION_TIME)["selected_time"])
    paused = bool(state(Block.ROTATION_PAUSED).get("selected_options"))
    rota = rotation.set_roster(db, team_id, channel_id, user_id, users)
    rotation.set_paused(db, team_id, channel_id, paused)
    rotation.set_holidays(db, team_id, channel_id, country or None)
    plan = Schedule(days, meeting_time, tz or None, schedule.parse_lead(lead))
    if plan.tz_name:
        rotation.apply_schedule(db, team_id, channel_id, user_id, plan)
        text = schedule_confirmation(plan, rota.next_meeting_at)
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.ROTATION_NOTICE,
                       channel_id=channel_id, user_id=user_id, payload={"text": text})
    else:
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.ROTATION_SCHEDULE,
                       channel_id=channel_id, user_id=user_id,
                       payload={"days": days, "meeting_time": meeting_time,
                                "lead_minutes": plan.lead_minutes})
    ack()


def _picked(state: dict, none: str) -> str:
    """A select's choice ("" for its `none` choice); the text of a form opened before the
    fields became selects."""
    chosen = ((state.get("selected_option") or {}).get("value") or state.get("value")
              or "").strip()
    return "" if chosen == none else chosen


def options(ack: Ack, body: dict) -> None:
    """What the time zone and holiday selects offer for what has been typed so far."""
    typed = body.get("value") or ""
    if body.get("block_id") == Block.ROTATION_TZ:
        ack(options=zone_options(places.find_zones(typed), typed))
    elif body.get("block_id") == Block.ROTATION_HOLIDAYS:
        ack(options=country_options(places.find_countries(typed), typed))
    else:
        ack(options=[])
