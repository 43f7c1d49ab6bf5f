"""Meeting schedules: parsing what people type, and finding the next meeting in UTC.

Meetings are wall-clock times in a named zone (zoneinfo), never CronTrigger: across DST
a time that does not exist that day moves to the first minute after the gap, and a time
that exists twice counts once (its first instance, fold=0). One meeting per local date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays

from bot.services.errors import UserError
from bot.services.numbers import whole_number

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_WORDS = {
    **{name: [i] for i, name in enumerate(DAY_NAMES)},
    **{full: [i] for i, full in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    "weekdays": [0, 1, 2, 3, 4],
    "daily": [0, 1, 2, 3, 4, 5, 6],
}
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
DEFAULT_LEAD = 10
MAX_LEAD = 24 * 60
# Far enough to cross any run of holidays; a schedule with no meeting in it has none.
LOOKAHEAD_DAYS = 60


@dataclass(frozen=True)
class Schedule:
    days: str  # weekday digits, Monday 0: "024"
    meeting_time: str  # "09:30"
    tz_name: str | None  # None: the caller's Slack time zone, to be looked up
    lead_minutes: int = DEFAULT_LEAD

    def describe(self) -> str:
        tz = self.tz_name or "your Slack time zone"
        return (f"{describe_days(self.days)} at {self.meeting_time} ({tz}), reminder "
                f"{self.lead_minutes} min before")


def describe_days(days: str) -> str:
    return ", ".join(DAY_LABELS[int(d)] for d in days)


def parse_days(word: str) -> str:
    """`mon,wed,fri`, `mon-fri`, `weekdays`, `daily` -> "024"; UserError otherwise."""
    chosen: set[int] = set()
    for part in filter(None, word.lower().split(",")):
        if "-" in part:
            first, _, last = part.partition("-")
            if first not in DAY_NAMES or last not in DAY_NAMES:
                raise UserError(_bad_days(part))
            a, b = DAY_NAMES.index(first), DAY_NAMES.index(last)
            chosen.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif part in _DAY_WORDS:
            chosen.update(_DAY_WORDS[part])
        else:
            raise UserError(_bad_days(part))
    if not chosen:
        raise UserError(_bad_days(word))
    return "".join(str(d) for d in sorted(chosen))


def _bad_days(part: str) -> str:
    return (f"I don't know the day `{part}`. Use mon, tue, wed, thu, fri, sat, sun, "
            "joined with commas (`mon,wed,fri`), a range (`mon-fri`) or `weekdays`.")


def parse_time(word: str) -> str:
    match = _TIME.fullmatch(word.strip())
    if match is None:
        raise UserError(f"`{word}` is not a time. Use 24-hour HH:MM, like `09:30`.")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def zone(name: str) -> ZoneInfo:
    """The zone for an IANA name (`Europe/Berlin`); UserError for anything else."""
    if name in _zone_names():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise UserError(f"I don't know the time zone `{name}`. Use an IANA name such as "
                    "`Europe/Berlin` or `America/New_York`.")


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_lead(word: str) -> int:
    # At least a minute: a reminder is never sent once the meeting has begun.
    minutes = whole_number(word)
    if minutes is None or not 1 <= minutes <= MAX_LEAD:
        raise UserError(f"`lead {word[:20]}`: give the minutes before the meeting as plain "
                        f"digits, 1 to {MAX_LEAD}.")
    return minutes


def parse_schedule(text: str) -> Schedule:
    """`DAYS HH:MM [TZ] [lead MINUTES]`, e.g. `mon,wed,fri 09:30 Europe/Berlin lead 15`."""
    words = text.split()
    if len(words) < 2:
        raise UserError("Give days and a time: `/debrief rotation schedule mon,wed,fri 09:30 "
                        "Europe/Berlin lead 15` (time zone and lead are optional).")
    days, meeting_time, rest = parse_days(words[0]), parse_time(words[1]), words[2:]
    tz_name, lead = None, DEFAULT_LEAD
    if rest and rest[0].lower() != "lead":
        tz_name = rest.pop(0)
        zone(tz_name)
    if rest:
        if rest[0].lower() != "lead" or len(rest) != 2:
            raise UserError(f"I don't understand `{' '.join(rest)}`. End with `lead 15` to be "
                            "reminded 15 minutes before.")
        lead = parse_lead(rest[1])
    return Schedule(days, meeting_time, tz_name, lead)


def country(code: str) -> str:
    """A country code the `holidays` package knows (`DE`, `US`), upper-cased."""
    code = code.strip().upper()
    if code not in holidays.list_supported_countries():
        raise UserError(f"I don't know public holidays for `{code}`. Use a two-letter country "
                        "code such as `DE`, `FR`, `GB` or `US`.")
    return code


@lru_cache(maxsize=256)
def _holidays(code: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(code, years=year)


def is_holiday(code: str | None, day: date) -> bool:
    return bool(code) and day in _holidays(code, day.year)


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """`day` at `wall` in `tz`, in UTC, by the DST policy above."""
    naive = datetime.combine(day, wall)
    for minutes in range(0, 24 * 60):
        candidate = naive + timedelta(minutes=minutes)
        aware = candidate.replace(tzinfo=tz, fold=0)
        instant = aware.astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == candidate:
            return instant  # exists (the first instance, if it exists twice)
    raise AssertionError("no gap lasts a day")


def next_meeting(days: str, meeting_time: str, tz_name: str, after: datetime,
                 holiday: Callable[[date], bool] = lambda day: False
                 ) -> tuple[date, datetime] | None:
    """The first meeting strictly after `after` (UTC): its local date and UTC instant."""
    tz = zone(tz_name)
    hours, minutes = (int(p) for p in meeting_time.split(":"))
    wall = time(hours, minutes)
    start = after.astimezone(tz).date()
    weekdays = {int(d) for d in days}
    for offset in range(LOOKAHEAD_DAYS):
        day = start + timedelta(days=offset)
        if day.weekday() not in weekdays or holiday(day):
            continue
        instant = local_instant(day, wall, tz)
        if instant > after:
            return day, instant
    return None
