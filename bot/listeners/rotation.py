"""`/debrief rotation …`, the reminder's buttons and the rotation settings modal.

Everything here is database-only, before the ack. Two things need Slack and happen after
it, through the outbox: the caller's time zone when `schedule` names none (users.info),
and whether a person is deactivated (checked before each reminder). People are named by
Slack's escaped mentions (`<@U123|ana>`), which Slack only writes for real members.
"""

from __future__ import annotations

from dataclasses import replace

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.db.models import utcnow
from bot.ids import Action, Callback, OutboxAction
from bot.listeners import Deps, Listeners, rotation_settings
from bot.listeners.commands import Call
from bot.listeners.router import split
from bot.listeners.slack_text import typed_text
from bot.listeners.unit import workspace
from bot.services import access, nearmiss, outbox, rotation, schedule, turns
from bot.services.errors import UserError
from bot.services.numbers import whole_number
from bot.views.rotation import schedule_confirmation, settings_modal, status_text
from bot.views.text import clip, safe

USAGE = ("`/debrief rotation` opens the settings. Or: `add @a @b` · `remove @a` · `join` · "
         "`leave` · `schedule mon,wed,fri 09:30 [Europe/Berlin] [lead 15]` · "
         "`holidays DE` · `holidays @a US` · `holidays off` · "
         "`away @a until 2026-12-24` (or `away @a off`) · "
         "`next` · `skip` · `pause` · `resume`")


def rotation_command(call: Call) -> str | None:
    word, rest = split(call.args)
    if not word:
        rota = rotation.get(call.db, call.team_id, call.channel_id)
        roster = [m.user_id for m in rotation.members(call.db, rota)] if rota else []
        view = settings_modal(call.channel_id, rota, roster).to_dict()
        call.deps.after_ack(_open, call.client, call.trigger_id, view)
        return None
    action = ACTIONS.get(word)
    if action is None:
        guess = nearmiss.closest(word, ACTIONS)
        retyped = safe(clip(f"{guess} {typed_text(rest)}".strip(), 200))
        meant = f" Did you mean `/debrief rotation {retyped}`?" if guess else ""
        raise UserError(f"I don't know `rotation {safe(typed_text(word))}`.{meant} {USAGE}")
    if word not in READS:
        # Asked of Slack before the database is touched (no lock held while it answers).
        # The command's channel is where Slack saw them type it: they are in it.
        person = caller(call)
        if word != "skip":  # passing the turn on has the turn's own rule
            rotation.may_change(person)
        call = replace(call, person=person)
    return action(call, rest)  # a UserError rolls everything back (listeners/unit.py)


def caller(call: Call) -> access.Person:
    """Who is calling, as Slack says now (kept a minute; unknown when it does not say)."""
    return call.deps.directory.person(call.client, call.team_id, call.user_id)


def _open(client: WebClient, trigger_id: str, view: dict) -> None:
    client.views_open(trigger_id=trigger_id, view=view)


def _mentions(users: list[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users)


def add(call: Call, rest: str) -> str:
    added, already = rotation.add(call.db, call.team_id, call.channel_id, call.user_id,
                                  rotation.mentioned(rest))
    parts = [f":busts_in_silhouette: Added {_mentions(added)} to the rotation."] if added else []
    if already:
        parts.append(f"{_mentions(already)} already in it.")
    return " ".join(parts) + _hint_schedule(call)


def _hint_schedule(call: Call) -> str:
    rota = rotation.get(call.db, call.team_id, call.channel_id)
    if rota is not None and not rota.days:
        return (" Now set when you meet: `/debrief rotation schedule mon,wed,fri 09:30 "
                "Europe/Berlin lead 15`.")
    return ""


def remove(call: Call, rest: str) -> str:
    users = rotation.mentioned(rest)
    for user_id in users:
        rotation.remove(call.db, call.team_id, call.channel_id, user_id)
    return f"Removed {_mentions(users)} from the rotation."


def join(call: Call, rest: str) -> str:
    added, _ = rotation.add(call.db, call.team_id, call.channel_id, call.user_id,
                            [call.user_id])
    head = ":wave: You joined the rotation." if added else "You are already in the rotation."
    return head + _hint_schedule(call)


def leave(call: Call, rest: str) -> str:
    rotation.remove(call.db, call.team_id, call.channel_id, call.user_id)
    return "You left the rotation. `/debrief rotation join` brings you back."


def set_schedule(call: Call, rest: str) -> str:
    plan = schedule.parse_schedule(rest)
    if plan.tz_name is not None:
        rota = rotation.apply_schedule(call.db, call.team_id, call.channel_id, call.user_id,
                                       plan)
        return schedule_confirmation(plan, rota.next_meeting_at)
    # No zone given: the caller's Slack zone needs users.info, which waits for the ack.
    # Nothing changes until it is known; the outbox applies it and tells the caller.
    rotation.check_schedulable(call.db, call.team_id, call.channel_id)
    outbox.enqueue(call.db, team_id=call.team_id, action=OutboxAction.ROTATION_SCHEDULE,
                   channel_id=call.channel_id, user_id=call.user_id,
                   payload={"days": plan.days, "meeting_time": plan.meeting_time,
                            "lead_minutes": plan.lead_minutes})
    return (f":hourglass_flowing_sand: Setting the rotation to {plan.describe()}; "
            "I'll confirm in a moment.")


def holidays(call: Call, rest: str) -> str:
    words = rest.split()
    if len(words) == 2 and words[0].startswith("<@"):
        return member_holidays(call, words[0], words[1])
    if len(words) != 1:
        raise UserError("Which country? `/debrief rotation holidays DE` (no meeting then), "
                        "`holidays @ana US` (Ana is passed over on US holidays), or "
                        "`holidays off`.")
    code = words[0]
    off = code.lower() in ("off", "none")
    rota = rotation.set_holidays(call.db, call.team_id, call.channel_id, None if off else code)
    if off:
        return "Meetings now happen on public holidays too."
    return f":beach_with_umbrella: No meeting on {rota.holiday_country} public holidays."


def member_holidays(call: Call, mention: str, code: str) -> str:
    [user_id] = rotation.mentioned(mention)
    off = code.lower() in ("off", "none")
    found = rotation.set_member_holidays(call.db, call.team_id, call.channel_id, user_id,
                                         None if off else code)
    if off:
        return f"<@{user_id}> takes turns on public holidays too."
    return f":beach_with_umbrella: <@{user_id}> is passed over on {found.holiday_country} " \
           "public holidays."


def away(call: Call, rest: str) -> str:
    words = rest.split()
    usage = "Say `/debrief rotation away @ana until 2026-12-24`, or `away @ana off`."
    if len(words) == 2 and words[1].lower() in ("off", "back"):
        [user_id] = rotation.mentioned(words[0])
        rotation.set_away(call.db, call.team_id, call.channel_id, user_id, None)
        return f"<@{user_id}> is back in the rotation."
    if len(words) != 3 or words[1].lower() != "until":
        near = len(words) > 1 and nearmiss.closest(words[1], ("until", "off"))
        raise UserError((f"`{safe(words[1][:20])}`: did you mean `{near}`? " if near else "")
                        + usage)
    [user_id] = rotation.mentioned(words[0])
    until = rotation.parse_date(words[2])
    rotation.set_away(call.db, call.team_id, call.channel_id, user_id, until)
    return (f":palm_tree: <@{user_id}> is passed over for meetings up to and including "
            f"{until.isoformat()}.")


def show_next(call: Call, rest: str) -> str:
    rota = rotation.require(call.db, call.team_id, call.channel_id)
    roster = [m.user_id for m in rotation.members(call.db, rota)]
    ahead = rotation.forecast(call.db, rota, utcnow(), 3) if roster else []
    return status_text(rota, roster, ahead)


def skip(call: Call, rest: str) -> str:
    rota = rotation.require(call.db, call.team_id, call.channel_id)
    turn = turns.current_turn(call.db, rota, utcnow())
    if turn is None or turn.status not in turns.OPEN:
        raise UserError("No turn is out for today yet: the reminder comes before the meeting. "
                        "To skip someone for a while, `/debrief rotation away @ana until "
                        "2026-12-24`.")
    assert call.person is not None
    turn = turns.pass_turn(call.db, call.team_id, turn.id, call.user_id,
                           admin=call.person.admin)
    if turn.user_id:
        return f":arrow_right: Today's turn passes to <@{turn.user_id}>."
    return "Nobody else is available today, so there is no share at this meeting."


def pause(call: Call, rest: str) -> str:
    rotation.set_paused(call.db, call.team_id, call.channel_id, True)
    return ":double_vertical_bar: The rotation is paused: no reminders until " \
           "`/debrief rotation resume`."


def resume(call: Call, rest: str) -> str:
    rota = rotation.set_paused(call.db, call.team_id, call.channel_id, False)
    if rota.next_meeting_at is None:
        return "The rotation is on again, but has no schedule yet: `/debrief rotation " \
               "schedule mon,wed,fri 09:30 Europe/Berlin`."
    return ":arrow_forward: The rotation is on again."


READS = {"next"}
ACTIONS = {"add": add, "remove": remove, "join": join, "leave": leave,
           "schedule": set_schedule, "holidays": holidays, "away": away, "next": show_next,
           "skip": skip, "pause": pause, "resume": resume}


# --- the reminder's buttons ---

def on_button(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """The reminder's buttons; a refusal is shown only to who pressed (listeners/unit.py).
    The turn named in the button is checked against who pressed it, and where."""
    ack()
    db = context["db"]
    team_id = workspace(context)
    user_id = body["user"]["id"]
    action = body["actions"][0]
    value = str(action.get("value") or "")
    turn_id = whole_number(value) or 0
    channel_id = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id") or ""
    if action["action_id"] == Action.ROTATION_SHARE:
        turns.confirm(db, team_id, turn_id, user_id)
        return
    # Before the database: Slack's answer about the person (kept a minute).
    person = context["deps"].directory.person(client, team_id, user_id)
    if action["action_id"] == Action.ROTATION_PASS:
        turns.pass_turn(db, team_id, turn_id, user_id, admin=person.admin)
    else:
        turns.skip_meeting(db, team_id, turn_id, by=person, channel_id=channel_id)


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("rotation", usage="rotation [add|remove|join|leave|schedule|holidays|away|"
                   "next|skip|pause|resume]", summary="the share-a-learning rotation of this "
                   "channel")(rotation_command)
    for action_id in (Action.ROTATION_SHARE, Action.ROTATION_PASS, Action.ROTATION_SKIP):
        app.action(action_id, on_button)
    app.view(Callback.ROTATION_MODAL, rotation_settings.submit_settings)
    app.options(Action.ROTATION_INPUT, rotation_settings.options)
