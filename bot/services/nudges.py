"""Nudges: one DM to a card's collaborator who has added nothing to it for a while.

The period is the card's own (`cards.nudge_days`), else its channel's
(`channel_settings.nudge_days`), else a week, in calendar days of the person's calendar:
it counts from their last entry on the card (any entry of theirs: only they see the
nudge), from when they joined it, or from their last nudge. The nudge goes out at 10:00
on the first working day after that: never on a weekend or one of their public holidays,
and never outside their working hours (10:00 to LATEST) even when the clock was down.

A person's calendar comes from the rotation settings (bot/services/rotation.py): their
member row in the card channel's rotation, else in any rotation of theirs that names a
country for them; its country (`/debrief rotation holidays @a DE`), or none, and its
rotation's time zone. Someone no rotation places gets their own Slack time zone
(`card_collaborators.tz_name`, learned by the outbox when they join a card: users.info,
never asked with a transaction open) and its country's weekend and holidays (tzdata's
zone.tab), else the card channel's rotation's zone, else UTC. Until their zone is
learned their nudge waits: the clock asks for it instead (CARD_ZONE) and tries again an
hour later, so nobody is nudged at 10:00 UTC in the middle of their night.

Each collaborator row carries its next nudge in UTC (`next_nudge_at`; NULL when none is
planned), computed whenever something it depends on changes, so the clock reads one
index. The clock claims what is due with one UPDATE … RETURNING that clears the time
(PostgreSQL skips rows another clock holds; on SQLite writers queue), then queues the
DMs and writes the next times in the same transaction: each person is nudged once per
period, however many clocks run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

import holidays
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from bot.db.models import (
    Card,
    CardCollaborator,
    CardStatus,
    ChannelSettings,
    NudgeMute,
    Rotation,
    RotationMember,
    utcnow,
)
from bot.ids import OutboxAction
from bot.services import outbox, schedule
from bot.services.errors import UserError

DEFAULT_DAYS = 7
MAX_DAYS = 90
NUDGE_TIME = time(10, 0)  # local time on the person's working day
# A nudge the clock finds due later than this local time (it was down) waits for the next
# working day's NUDGE_TIME: working hours, never the evening or the night.
LATEST = time(17, 0)
# When a person's Slack zone is not known yet: ask for it, and look again this much later.
ZONE_RETRY = timedelta(hours=1)
# Far enough to cross any run of holidays and weekends.
LOOKAHEAD_DAYS = 60
CLAIM_BATCH = 200
_WEEKEND = frozenset({5, 6})
_EVERY = re.compile(r"every\s+(?:(\d{1,3})\s+)?(days?|weeks?)", re.IGNORECASE)


@lru_cache(maxsize=256)
def weekend(country: str | None) -> frozenset[int]:
    """The weekdays (Monday 0) that are the weekend in `country`: Saturday and Sunday
    unless the `holidays` package knows otherwise (Friday and Saturday in Israel)."""
    if not country:
        return _WEEKEND
    return frozenset(holidays.country_holidays(country).weekend)


@cache
def _zone_countries() -> dict[str, str]:
    """Each time zone's country (tzdata's zone.tab), where `holidays` knows it."""
    known = set(holidays.list_supported_countries())
    try:
        table = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, OSError):
        return {}
    found = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            code, _, zone = line.split("\t")[:3]
            if code in known:
                found[zone] = code
    return found


def zone_country(tz_name: str | None) -> str | None:
    """The country a Slack time zone is in (America/Los_Angeles: US), if known."""
    return _zone_countries().get(tz_name or "")


def usable_zone(tz_name: str | None) -> str:
    """A zone as Slack named it, if zoneinfo knows it; "" (none) otherwise."""
    return tz_name if tz_name and tz_name in _zones() else ""


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@dataclass(frozen=True)
class Calendar:
    """When a person works: a time zone and, if known, a country's holidays. `settled`
    False: their own zone is not known yet (no rotation places them, Slack not asked)."""

    tz_name: str = "UTC"
    country: str | None = None
    settled: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def working(self, day: date) -> bool:
        return day.weekday() not in weekend(self.country) \
            and not schedule.is_holiday(self.country, day)

    def first_working_day(self, day: date) -> date | None:
        for offset in range(LOOKAHEAD_DAYS):
            if self.working(day + timedelta(days=offset)):
                return day + timedelta(days=offset)
        return None

    def nudge_on(self, day: date) -> datetime:
        """NUDGE_TIME on `day`, local, in UTC (across DST too: schedule.local_instant)."""
        return schedule.local_instant(day, NUDGE_TIME, self.zone)

    def due(self, quiet_since: datetime, days: int) -> datetime | None:
        """The nudge for someone quiet since `quiet_since`: `days` calendar days later,
        on the first working day from then."""
        day = self.first_working_day(self.local_date(quiet_since) + timedelta(days=days))
        return None if day is None else self.nudge_on(day)

    def civil(self, now: datetime) -> bool:
        """Whether `now` is working hours of a working day of theirs."""
        local = now.astimezone(self.zone)
        return self.working(local.date()) and NUDGE_TIME <= local.time() < LATEST

    def next_working_moment(self, now: datetime) -> datetime | None:
        """The first NUDGE_TIME of a working day at or after `now`."""
        day = self.first_working_day(self.local_date(now))
        if day is not None and self.nudge_on(day) < now:
            day = self.first_working_day(day + timedelta(days=1))
        return None if day is None else self.nudge_on(day)


def quiet_since(row: CardCollaborator) -> datetime:
    """Since when the person has had no word from the card: their last entry on it (or
    joining it), or their last nudge."""
    return max(row.active_at, row.nudged_at) if row.nudged_at else row.active_at


# --- what planning needs to know, read for many rows at once ---

Key = tuple[str, str, str]  # (team, channel of the card, person)


def calendars(db: Session, keys: Iterable[Key],
              zones: Mapping[tuple[str, str], str | None] | None = None) -> dict[Key, Calendar]:
    """Each person's calendar for a card in a channel (see the module's docstring);
    `zones`: their Slack zones by (team, person), as learned (None: not yet)."""
    keys = set(keys)
    zones = zones or {}
    if not keys:
        return {}
    users = {user for _, _, user in keys}
    channels = {channel for _, channel, _ in keys}
    members: dict[tuple[str, str], list[tuple[str | None, str | None, str]]] = {}
    for team, user, country, tz_name, channel in db.execute(
            select(RotationMember.team_id, RotationMember.user_id,
                   RotationMember.holiday_country, Rotation.tz_name, Rotation.channel_id)
            .join(Rotation, Rotation.id == RotationMember.rotation_id)
            .where(RotationMember.user_id.in_(users))
            .order_by(RotationMember.id)):
        members.setdefault((team, user), []).append((country, tz_name, channel))
    channel_zone = {(team, channel): tz for team, channel, tz in db.execute(
        select(Rotation.team_id, Rotation.channel_id, Rotation.tz_name)
        .where(Rotation.channel_id.in_(channels)))}
    found = {}
    for team, channel, user in keys:
        rows = members.get((team, user), [])
        mine = next((r for r in rows if r[2] == channel), None) \
            or next((r for r in rows if r[0]), None)
        country, tz_name = (mine[0], mine[1]) if mine else (None, None)
        if tz_name:
            found[(team, channel, user)] = Calendar(tz_name, country)
            continue
        own = zones.get((team, user))
        if own:  # their Slack zone; its country's holidays unless a rotation set one
            found[(team, channel, user)] = Calendar(
                own, country if mine else zone_country(own))
            continue
        found[(team, channel, user)] = Calendar(
            channel_zone.get((team, channel)) or "UTC", country, settled=own is not None)
    return found


def periods(db: Session, cards: Iterable[Card]) -> dict[int, int]:
    """Each card's period in days: its own, else its channel's, else a week."""
    cards = list(cards)
    wanted = {(c.team_id, c.channel_id) for c in cards if c.nudge_days is None}
    by_channel: dict[tuple[str, str], int | None] = {}
    if wanted:
        by_channel = {(team, channel): days for team, channel, days in db.execute(
            select(ChannelSettings.team_id, ChannelSettings.channel_id,
                   ChannelSettings.nudge_days)
            .where(ChannelSettings.channel_id.in_({channel for _, channel in wanted})))}
    return {c.id: c.nudge_days or by_channel.get((c.team_id, c.channel_id)) or DEFAULT_DAYS
            for c in cards}


def muted_everywhere(db: Session, people: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (team, person) asked for no nudges at all."""
    people = set(people)
    if not people:
        return set()
    rows = db.execute(select(NudgeMute.team_id, NudgeMute.user_id).where(
        NudgeMute.user_id.in_({user for _, user in people}))).all()
    return {(team, user) for team, user in rows} & people


@dataclass
class Plan:
    """What planning knows about some collaborators and their cards."""

    cards: dict[int, Card]
    days: dict[int, int]
    calendars: dict[Key, Calendar]
    muted: set[tuple[str, str]]

    @classmethod
    def read(cls, db: Session, rows: Sequence[CardCollaborator],
             cards: dict[int, Card] | None = None) -> Plan:
        cards = dict(cards or {})
        missing = {row.card_id for row in rows} - set(cards)
        if missing:
            cards.update({c.id: c for c in db.scalars(select(Card).where(Card.id.in_(missing)))})
        zones: dict[tuple[str, str], str | None] = {}
        for row in rows:
            if zones.get((row.team_id, row.user_id)) is None:
                zones[(row.team_id, row.user_id)] = row.tz_name
        return cls(cards=cards, days=periods(db, cards.values()),
                   calendars=calendars(db, {_key(row, cards[row.card_id]) for row in rows},
                                       zones),
                   muted=muted_everywhere(db, {(row.team_id, row.user_id) for row in rows}))

    def calendar(self, row: CardCollaborator) -> Calendar:
        return self.calendars[_key(row, self.cards[row.card_id])]

    def wanted(self, row: CardCollaborator) -> bool:
        """Whether this person may be nudged about this card at all."""
        card = self.cards.get(row.card_id)
        return card is not None and card.status == CardStatus.OPEN and not row.muted \
            and (row.team_id, row.user_id) not in self.muted

    def next_nudge(self, row: CardCollaborator) -> datetime | None:
        if not self.wanted(row):
            return None
        return self.calendar(row).due(quiet_since(row), self.days[row.card_id])


def _key(row: CardCollaborator, card: Card) -> Key:
    return (row.team_id, card.channel_id, row.user_id)


def plan(db: Session, rows: Sequence[CardCollaborator],
         cards: dict[int, Card] | None = None) -> None:
    """Set each collaborator's next nudge from what it depends on (the caller flushes)."""
    if not rows:
        return
    known = Plan.read(db, rows, cards)
    for row in rows:
        row.next_nudge_at = known.next_nudge(row)


def known_zone(db: Session, team_id: str, user_id: str) -> str | None:
    """The person's Slack zone as learned for another card of theirs (None: not yet)."""
    return db.scalar(select(CardCollaborator.tz_name).where(
        CardCollaborator.team_id == team_id, CardCollaborator.user_id == user_id,
        CardCollaborator.tz_name.is_not(None)).limit(1))


def zone_wanted(db: Session, team_id: str, user_id: str) -> bool:
    """Whether any card row of the person still waits for their Slack zone."""
    return db.scalar(select(CardCollaborator.id).where(
        CardCollaborator.team_id == team_id, CardCollaborator.user_id == user_id,
        CardCollaborator.tz_name.is_(None)).limit(1)) is not None


def ask_zone(db: Session, team_id: str, user_ids: Iterable[str]) -> None:
    """Have the outbox learn these people's Slack zones (it asks with no transaction
    open, then `learn_zone`)."""
    outbox.enqueue_many(db, [{"team_id": team_id, "action": OutboxAction.CARD_ZONE,
                              "channel_id": user_id, "user_id": user_id}
                             for user_id in dict.fromkeys(user_ids)])


def learn_zone(db: Session, team_id: str, user_id: str, tz_name: str | None) -> None:
    """Slack said the person's zone (None: it named none): keep it on every card row of
    theirs and plan their nudges again in it. The rows are locked first, so a clock that
    claimed one commits before they are read."""
    rows = list(db.scalars(select(CardCollaborator).where(
        CardCollaborator.team_id == team_id, CardCollaborator.user_id == user_id)
        .order_by(CardCollaborator.id).with_for_update()))
    zone = usable_zone(tz_name)
    for row in rows:
        row.tz_name = zone
    plan(db, rows)


def replan_card(db: Session, card: Card) -> None:
    plan(db, list(db.scalars(select(CardCollaborator).where(
        CardCollaborator.card_id == card.id))), {card.id: card})


def stop_card(db: Session, card_id: int) -> None:
    """No more nudges about a card (it closed)."""
    db.execute(update(CardCollaborator).where(CardCollaborator.card_id == card_id)
               .values(next_nudge_at=None).execution_options(synchronize_session=False))


# --- settings people change ---

def parse_period(text: str) -> int:
    """`every 3 days`, `every 2 weeks`, `every week` -> days; UserError otherwise."""
    match = _EVERY.fullmatch(text.strip())
    if match is None:
        raise UserError("Say how often, e.g. `every 3 days` or `every 2 weeks`.")
    count = int(match.group(1) or 1) * (7 if match.group(2).lower().startswith("week") else 1)
    if not 1 <= count <= MAX_DAYS:
        raise UserError(f"Choose between 1 and {MAX_DAYS} days.")
    return count


def set_card_period(db: Session, card: Card, days: int, by: str) -> None:
    """The card's own period; only its opener sets it."""
    if by != card.opened_by:
        raise UserError(f"Only the card's opener, <@{card.opened_by}>, sets how often it "
                        "nudges; `/debrief nudges off` mutes nudges for you.")
    card.nudge_days = days
    replan_card(db, card)


def set_channel_period(db: Session, team_id: str, channel_id: str, days: int) -> int:
    """The channel's period, for its cards without one of their own; how many open
    cards it applies to."""
    row = db.get(ChannelSettings, (team_id, channel_id))
    if row is None:
        row = ChannelSettings(team_id=team_id, channel_id=channel_id, leaderboard=False)
        db.add(row)
    row.nudge_days = days
    db.flush()
    open_cards = list(db.scalars(select(Card).where(
        Card.team_id == team_id, Card.channel_id == channel_id,
        Card.status == CardStatus.OPEN)))
    rows = list(db.scalars(select(CardCollaborator).where(
        CardCollaborator.card_id.in_([c.id for c in open_cards])))) if open_cards else []
    plan(db, rows, {c.id: c for c in open_cards})
    return len(open_cards)


def channel_period(db: Session, team_id: str, channel_id: str) -> int:
    days = db.scalar(select(ChannelSettings.nudge_days).where(
        ChannelSettings.team_id == team_id, ChannelSettings.channel_id == channel_id))
    return days or DEFAULT_DAYS


def collaborator(db: Session, team_id: str, card_id: int, user_id: str) -> CardCollaborator:
    row = db.scalar(select(CardCollaborator).where(
        CardCollaborator.team_id == team_id, CardCollaborator.card_id == card_id,
        CardCollaborator.user_id == user_id))
    if row is None:
        raise UserError("You are not a collaborator on that card, so it never nudges you.")
    return row


def mute_card(db: Session, team_id: str, card_id: int, user_id: str,
              muted: bool = True) -> Card:
    """No nudges (or nudges again) about one card for this person."""
    row = collaborator(db, team_id, card_id, user_id)
    row.muted = muted
    plan(db, [row])
    return db.get(Card, card_id)  # type: ignore[return-value]


def is_muted_everywhere(db: Session, team_id: str, user_id: str) -> bool:
    return db.scalar(select(exists().where(NudgeMute.team_id == team_id,
                                           NudgeMute.user_id == user_id))) or False


def mute_all(db: Session, team_id: str, user_id: str) -> None:
    """No nudges at all for this person in this workspace."""
    if not is_muted_everywhere(db, team_id, user_id):
        db.add(NudgeMute(team_id=team_id, user_id=user_id, muted_at=utcnow()))
    db.execute(update(CardCollaborator).where(
        CardCollaborator.team_id == team_id, CardCollaborator.user_id == user_id)
        .values(next_nudge_at=None).execution_options(synchronize_session=False))


def unmute_all(db: Session, team_id: str, user_id: str) -> None:
    """Nudges again, for every card the person is on (cards they muted one by one too)."""
    db.execute(delete(NudgeMute).where(NudgeMute.team_id == team_id,
                                       NudgeMute.user_id == user_id))
    db.flush()
    rows = list(db.scalars(select(CardCollaborator).join(Card).where(
        CardCollaborator.team_id == team_id, CardCollaborator.user_id == user_id,
        Card.status == CardStatus.OPEN)))
    for row in rows:
        row.muted = False
    plan(db, rows)


def mine(db: Session, team_id: str,
         user_id: str) -> list[tuple[Card, bool, datetime | None]]:
    """The open cards a person is on: (card, muted, next nudge), newest card first."""
    return [(card, muted, due) for card, muted, due in db.execute(
        select(Card, CardCollaborator.muted, CardCollaborator.next_nudge_at)
        .join(CardCollaborator, CardCollaborator.card_id == Card.id)
        .where(CardCollaborator.team_id == team_id, CardCollaborator.user_id == user_id,
               Card.status == CardStatus.OPEN)
        .order_by(Card.id.desc()).limit(20))]


def forget(db: Session, team_id: str, user_id: str) -> None:
    db.execute(delete(NudgeMute).where(NudgeMute.team_id == team_id,
                                       NudgeMute.user_id == user_id))


# --- the clock ---

def any_due(db: Session, now: datetime) -> bool:
    """Whether any nudge is due (one index lookup: most ticks stop here)."""
    return db.scalar(select(CardCollaborator.id).where(CardCollaborator.next_nudge_at <= now)
                     .limit(1)) is not None


def claim(db: Session, now: datetime, limit: int = CLAIM_BATCH) -> list[CardCollaborator]:
    """Claim up to `limit` due collaborators: their time is cleared in the statement that
    picks them, so no other clock can pick them too. Must be the transaction's first
    write (on SQLite it takes the writer lock, and sees every commit before it)."""
    due = (select(CardCollaborator.id).where(CardCollaborator.next_nudge_at <= now)
           .order_by(CardCollaborator.next_nudge_at).limit(limit)
           .with_for_update(skip_locked=True))
    return list(db.scalars(
        update(CardCollaborator)
        .where(CardCollaborator.id.in_(due.scalar_subquery()),
               CardCollaborator.next_nudge_at <= now)
        .values(next_nudge_at=None).returning(CardCollaborator)
        .execution_options(synchronize_session=False, populate_existing=True)))


def send_due(db: Session, now: datetime, limit: int = CLAIM_BATCH) -> tuple[int, int]:
    """Claim due collaborators, queue a nudge for each one who is still quiet on a working
    day of theirs, and plan everyone's next: (claimed, nudged). The caller commits."""
    rows = claim(db, now, limit)
    if not rows:
        return 0, 0
    known = Plan.read(db, rows)
    calls: list[dict] = []
    unknown: dict[str, set[str]] = {}  # team -> people whose zone is not known yet
    for row in rows:
        if not known.wanted(row):
            continue  # stays NULL: card closed or nudges muted
        calendar, days = known.calendar(row), known.days[row.card_id]
        if not calendar.settled:
            # Their zone is not known yet: ask Slack (the outbox plans again once it
            # knows), and look again later should that fail.
            unknown.setdefault(row.team_id, set()).add(row.user_id)
            row.next_nudge_at = now + ZONE_RETRY
            continue
        quiet_enough = calendar.local_date(now) >= \
            calendar.local_date(quiet_since(row)) + timedelta(days=days)
        if not calendar.civil(now):
            # Late (the clock was down), and it is their weekend, holiday or evening now.
            row.next_nudge_at = calendar.next_working_moment(now)
        elif not quiet_enough:
            row.next_nudge_at = known.next_nudge(row)
        else:
            calls.append({"team_id": row.team_id, "action": OutboxAction.CARD_NUDGE,
                          "channel_id": row.user_id, "user_id": row.user_id,
                          "card_id": row.card_id})
            row.nudged_at = now
            row.next_nudge_at = known.next_nudge(row)
    outbox.enqueue_many(db, calls)  # one statement for the batch
    for team_id, people in unknown.items():
        ask_zone(db, team_id, sorted(people))
    return len(rows), len(calls)
