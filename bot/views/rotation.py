"""How the rotation looks: the channel reminder, the DM with ideas, the settings modal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ExternalDataSelectElement,
    InputBlock,
    InputInteractiveElement,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    SectionBlock,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.blocks import Block as SlackBlock
from slack_sdk.models.views import View

from bot.db.models import Entry, Kind, Rotation, Turn, TurnStatus
from bot.ids import Action, Block, Callback
from bot.services.places import Country, country_name
from bot.services.rotation import Upcoming
from bot.services.schedule import DAY_LABELS, Schedule, describe_days
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.text import clip, safe_preview

# Each idea's preview, escaped: three of them and the words around fit one section.
IDEA_PREVIEW = 280


def when(at: datetime, pattern: str = "{date_short_pretty} at {time}") -> str:
    """A time every reader sees in their own zone (Slack's date formatting)."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{pattern}|{fallback}>"


def reminder_text(turn: Turn) -> str:
    at = when(turn.meeting_at)  # "today at 9:30 AM" in each reader's own zone
    who = f"<@{turn.user_id}>" if turn.user_id else ""
    return {
        TurnStatus.REMINDED: f":microphone: *Share a learning* at the meeting {at}: {who} is "
                             "up! About five minutes on something you learned lately.",
        TurnStatus.CONFIRMED: f":white_check_mark: {who} will share a learning at the "
                              f"meeting {at}.",
        TurnStatus.SHARED: f":tada: {who} shared a learning. Thank you!",
        TurnStatus.PASSED: f":zzz: Nobody is up for the share at the meeting {at}: everyone "
                           "passed. See you at the next one.",
        TurnStatus.SKIPPED: f":fast_forward: No share at the meeting {at}.",
        TurnStatus.MISSED: f":palm_tree: Nobody in the rotation is available for the meeting "
                           f"{at}, so there is no share.",
    }[TurnStatus(turn.status)]


def reminder_message(turn: Turn) -> dict:
    """The channel reminder; its buttons stay while the turn is open."""
    blocks: list[SlackBlock] = [SectionBlock(block_id=Block.ROTATION_TURN,
                                             text=MarkdownTextObject(text=reminder_text(turn)))]
    if turn.status in (TurnStatus.REMINDED, TurnStatus.CONFIRMED):
        value = str(turn.id)
        buttons = [ButtonElement(text="Pass to next", action_id=Action.ROTATION_PASS,
                                 value=value),
                   ButtonElement(text="Skip today's meeting", action_id=Action.ROTATION_SKIP,
                                 value=value)]
        if turn.status == TurnStatus.REMINDED:
            buttons.insert(0, ButtonElement(text="I'll share", action_id=Action.ROTATION_SHARE,
                                            value=value, style="primary"))
        blocks.append(ActionsBlock(elements=buttons))
    return {"text": reminder_text(turn), "blocks": [b.to_dict() for b in blocks]}


def idea_dm(turn: Turn, ideas: Sequence[Entry]) -> dict:
    """The DM to the person who is up: their own recent entries as ideas, nobody else's."""
    lines = [f":wave: You're up to share a learning at the meeting in <#{turn.channel_id}> "
             f"({when(turn.meeting_at)}): about five minutes on something you learned."]
    if ideas:
        lines.append("Some ideas from your own recent entries:")
        lines += [f"{KIND_EMOJI[Kind(e.kind)]} *{KIND_LABEL[Kind(e.kind)]}*: "
                  f"{safe_preview(e.text, IDEA_PREVIEW)}" for e in ideas]
    lines.append("Can't make it? Press *Pass to next* on the reminder in the channel: it costs "
                 "you nothing, you stay first in line.")
    text = "\n".join(lines)
    # Verbatim: Slack never turns a name, channel or address they wrote into a link.
    return {"text": text, "blocks": [
        SectionBlock(text=MarkdownTextObject(text=text, verbatim=True)).to_dict()]}


def status_text(rotation: Rotation, roster: Sequence[str], ahead: Sequence[Upcoming]) -> str:
    """`/debrief rotation next`: who is up, and the settings in one glance."""
    if not roster:
        return ("Nobody is in this channel's rotation yet: `/debrief rotation add @ana @ben` "
                "or `/debrief rotation join`.")
    lines = []
    if ahead:
        first = ahead[0]
        state = "is up" if first.confirmed else "is next"
        lines.append(f":microphone: <@{first.user_id}> {state} for the meeting on "
                     f"{when(first.meeting_at)}.")
        if len(ahead) > 1:
            lines.append("Then: " + ", ".join(f"<@{u.user_id}>" for u in ahead[1:]) + ".")
    elif rotation.paused:
        lines.append(":double_vertical_bar: The rotation is paused: `/debrief rotation resume`.")
    elif not rotation.days:
        lines.append("No meetings are scheduled yet: `/debrief rotation schedule mon,wed,fri "
                     "09:30 Europe/Berlin lead 15`.")
    else:
        lines.append("Nobody is available for the coming meetings.")
    lines.append(settings_line(rotation, roster))
    return "\n".join(lines)


def settings_line(rotation: Rotation, roster: Sequence[str]) -> str:
    parts = [f"Rotation: {', '.join(f'<@{u}>' for u in roster) or 'nobody yet'}"]
    if rotation.days and rotation.meeting_time:
        parts.append(f"meets {describe_days(rotation.days)} at {rotation.meeting_time} "
                     f"({rotation.tz_name}), reminder {rotation.lead_minutes} min before")
    if rotation.holiday_country:
        parts.append(f"no meeting on {rotation.holiday_country} public holidays")
    if rotation.paused:
        parts.append("paused")
    return "_" + "; ".join(parts) + "._"


def settings_modal(channel_id: str, rotation: Rotation | None, roster: Sequence[str]) -> View:
    days = [Option(value=str(i), text=label) for i, label in enumerate(DAY_LABELS)]
    chosen = [o for o in days if rotation and o.value in rotation.days]
    paused = Option(value="yes", text="Paused: no reminders until unticked")

    def field(block: str, label: str, element: InputInteractiveElement, optional: bool = False,
              hint: str | None = None) -> InputBlock:
        return InputBlock(block_id=block, label=label, element=element, optional=optional,
                          hint=hint)

    return View(
        type="modal", callback_id=Callback.ROTATION_MODAL, title="Share-a-learning",
        submit="Save", close="Cancel", private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=(
                f"One person shares a learning at each meeting of <#{channel_id}>. "
                "The one whose last turn is longest ago goes first."))),
            field(Block.ROTATION_MEMBERS, "Who takes turns", UserMultiSelectElement(
                action_id=Action.ROTATION_INPUT, initial_users=list(roster) or None)),
            field(Block.ROTATION_DAYS, "Meeting days", CheckboxesElement(
                action_id=Action.ROTATION_INPUT, options=days, initial_options=chosen or None)),
            field(Block.ROTATION_TIME, "Meeting time", TimePickerElement(
                action_id=Action.ROTATION_INPUT,
                initial_time=(rotation.meeting_time if rotation else None) or "09:30")),
            field(Block.ROTATION_TZ, "Time zone", ExternalDataSelectElement(
                action_id=Action.ROTATION_INPUT, placeholder="Type a city: Berlin, New York…",
                min_query_length=0,
                initial_option=zone_option(rotation.tz_name)
                if rotation and rotation.tz_name else None),
                optional=True, hint="Empty: your Slack time zone."),
            field(Block.ROTATION_LEAD, "Remind this many minutes before", NumberInputElement(
                action_id=Action.ROTATION_INPUT, is_decimal_allowed=False, min_value="1",
                max_value="1440",
                initial_value=str(rotation.lead_minutes if rotation else 10))),
            field(Block.ROTATION_HOLIDAYS, "No meeting on public holidays of",
                  ExternalDataSelectElement(
                action_id=Action.ROTATION_INPUT, placeholder="Type a country: Germany, US…",
                min_query_length=0,
                initial_option=country_option(Country(
                    rotation.holiday_country, country_name(rotation.holiday_country)))
                if rotation and rotation.holiday_country else None),
                optional=True, hint="Empty: meetings happen on public holidays too."),
            field(Block.ROTATION_PAUSED, "Pause", CheckboxesElement(
                action_id=Action.ROTATION_INPUT, options=[paused],
                initial_options=[paused] if rotation and rotation.paused else None),
                optional=True),
        ],
    )


# The selects' own choices for "none": a select cannot be emptied once something is picked.
YOUR_ZONE, NO_HOLIDAYS = "slack", "none"


def _offset(name: str, now: datetime) -> str:
    offset = now.astimezone(ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_option(name: str, now: datetime | None = None) -> Option:
    """A time zone as the select shows it: `America/New York (UTC−05:00)` (now)."""
    label = f"{name.replace('_', ' ')} ({_offset(name, now or datetime.now(UTC))})"
    return Option(value=name, text=clip(label, 75))


def zone_options(names: Sequence[str], typed: str, now: datetime | None = None) -> list[Option]:
    """The time zones found for what was typed; first, with nothing typed or "slack"
    typed, the way back to the person's Slack time zone."""
    now = now or datetime.now(UTC)
    options = [zone_option(name, now) for name in names]
    if YOUR_ZONE.startswith(typed.strip().lower()) or "your".startswith(typed.strip().lower()):
        options.insert(0, Option(value=YOUR_ZONE, text="Your Slack time zone"))
    return options[:100]


def country_option(country: Country) -> Option:
    return Option(value=country.code, text=clip(f"{country.name} ({country.code})", 75))


def country_options(countries: Sequence[Country], typed: str) -> list[Option]:
    """The countries found for what was typed; first, with nothing typed or "no…" typed,
    no holidays at all."""
    options = [country_option(country) for country in countries]
    if any(word.startswith(typed.strip().lower()) for word in ("none", "off")):
        options.insert(0, Option(value=NO_HOLIDAYS, text="None: meet on public holidays too"))
    return options[:100]


def schedule_confirmation(plan: Schedule, next_at: datetime | None) -> str:
    first = f" First meeting: {when(next_at)}." if next_at else ""
    return f":calendar: The rotation meets {plan.describe()}.{first}"


def schedule_without_zone() -> str:
    """`schedule` without a time zone, when Slack would not tell the caller's."""
    return (":warning: I could not read your Slack time zone, so the schedule is "
            "unchanged. Name one: `/debrief rotation schedule mon 09:30 Europe/Berlin`.")


def schedule_refused(reason: str) -> str:
    """`schedule` that the rotation refused once the time zone was known."""
    return f":warning: {reason} The schedule is unchanged."
