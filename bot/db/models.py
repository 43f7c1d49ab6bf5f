"""The tables. Every row carries its workspace (`team_id`); every query filters on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.ids import OutboxAction

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC everywhere, hands back aware UTC: SQLite keeps no zone."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


E = TypeVar("E", bound=enum.StrEnum)


def stored_as(enum_class: type[E], length: int) -> Enum:
    """An enum column stored as the members' values in a VARCHAR of `length`: no database
    enum type and no CHECK, so a new member needs no migration. Unknown strings are
    refused when written (validate_strings), and members come back when read."""
    return Enum(enum_class, native_enum=False, values_callable=lambda e: [m.value for m in e],
                length=length, validate_strings=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every model here is declared with __tablename__, so it is mapped to a Table (the
    # library types it as any FromClause, which insert() and update() do not take).
    __table__: ClassVar[Table]


class Kind(enum.StrEnum):
    WIN = "win"
    OPPORTUNITY = "opportunity"
    LESSON = "lesson"


class Visibility(enum.StrEnum):
    PRIVATE = "private"
    TEAM = "team"
    ORG = "org"


class Source(enum.StrEnum):
    """Where an entry was written."""

    COMMAND = "command"        # /debrief win|opp|lesson TEXT
    MODAL = "modal"            # the Debrief form
    REFLECTION = "reflection"  # a HOPE reflection shared as a lesson
    CAPTURE = "capture"        # a Slack message captured with the message shortcut


class Entry(Base):
    """A win, an opportunity or a lesson, exactly as its author typed it."""

    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[Kind] = mapped_column(stored_as(Kind, 16))
    text: Mapped[str] = mapped_column(Text)
    visibility: Mapped[Visibility] = mapped_column(stored_as(Visibility, 16),
                                                   default=Visibility.TEAM)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[Source] = mapped_column(stored_as(Source, 16), default=Source.COMMAND)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where the bot's message for this entry lives once posted (applause lands there).
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Slack's own link to that message (chat.getPermalink, asked once it is posted; 0016):
    # a reply in a card's thread opens in the thread. NULL for entries posted before.
    message_permalink: Mapped[str | None] = mapped_column(String(500))

    # The #tags, lower-cased and space-separated ("launch ops"); full-text search reads it.
    # TEXT on PostgreSQL (0011): 3,000 characters of text can carry more than 1,000 of
    # tags. SQLite never enforces a VARCHAR's length, and keeps the type it was made with.
    tags: Mapped[str] = mapped_column(String(1000).with_variant(Text(), "postgresql"),
                                      default="")
    # The deliverable card it was logged on, if any (its post goes in the card's thread).
    # Cards are closed, never deleted; if one were, its entries would stay, off the card.
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id", ondelete="SET NULL"))

    __table_args__ = (
        # A channel's entries by time; covering for its health picture (bot/services/
        # health.py), so that never visits the table (migration 0014 widened it).
        Index("ix_entries_channel_health", "team_id", "channel_id", "created_at", "kind",
              "visibility", "anonymous", "author_id"),
        Index(None, "team_id", "author_id", "created_at"),
        Index(None, "team_id", "message_channel_id", "message_ts"),
        Index(None, "team_id", "card_id"),
        # A workspace's newest entries: where any-word searches look first (db/fulltext.py).
        Index(None, "team_id", "id"),
        # The workspace's health picture (bot/services/health.py) reads 12 weeks of a
        # workspace's entries: covering, so it never visits the table (migration 0014).
        Index("ix_entries_health", "team_id", "created_at", "kind", "visibility",
              "anonymous", "author_id", "channel_id"),
    )

    @property
    def tag_names(self) -> list[str]:
        return self.tags.split()


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as it was just stored, id included: what the rules that follow its write
    and the author's confirmation read. Plain values: building an `Entry` would cost
    the busiest request (`/debrief win`) about a tenth of its time in the app, for an
    object the session never sees (bot/services/entries.log_entry)."""

    id: int
    team_id: str
    channel_id: str
    author_id: str
    kind: Kind
    text: str
    visibility: Visibility
    anonymous: bool
    source: Source
    created_at: datetime
    tags: str
    card_id: int | None

    @property
    def tag_names(self) -> list[str]:
        return self.tags.split()


class CardStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Card(Base):
    """A deliverable, shown as a channel message with tallies; entries gather in its thread.

    `revision` counts changes worth showing; `shown_revision` is what the message on Slack
    shows, so a burst of changes costs one `chat.update`, and none when nothing changed."""

    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(150))
    opened_by: Mapped[str] = mapped_column(String(32))
    status: Mapped[CardStatus] = mapped_column(stored_as(CardStatus, 16), default=CardStatus.OPEN)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    shown_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Days without a contribution before a collaborator is nudged; NULL: the channel's.
    nudge_days: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index(None, "team_id", "channel_id", "status"),
        Index(None, "team_id", "channel_id", "message_ts"),
    )


class CardCollaborator(Base):
    """Someone a card asks for their debrief (bot/services/collaborators.py).

    Whether they contributed is read from their entries, never stored, so an anonymous
    entry can never count for them. `next_nudge_at` is the nudge clock's only index: NULL
    when no nudge is planned (card closed, nudges muted)."""

    __tablename__ = "card_collaborators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When they last added anything to the card (or joined it): nudges count from here.
    active_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)  # no nudges for this card
    next_nudge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the card's closer asked them by DM before closing (once per card).
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Their Slack time zone, learned by the outbox after they joined (users.info; "" when
    # Slack named none); NULL until then. Their nudges keep to it when no rotation of
    # theirs gives them a calendar (bot/services/nudges.py).
    tz_name: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("card_id", "user_id"),
        Index(None, "next_nudge_at"),
        Index(None, "team_id", "user_id"),
    )


class NudgeMute(Base):
    """A person who asked for no nudges at all in a workspace."""

    __tablename__ = "nudge_mutes"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    muted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Applause(Base):
    """One emoji reaction by one person on a message that carries an entry (or, later, a
    card or a shared reflection): applause for that message's author."""

    __tablename__ = "applause"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    reactor_id: Mapped[str] = mapped_column(String(32))
    emoji: Mapped[str] = mapped_column(String(100))
    # Whose work is applauded; found from the message, never from Slack's item_user.
    author_id: Mapped[str] = mapped_column(String(32))
    # The applauded entry (NULL for a card's message): its applause goes with it.
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    # The applauded work is anonymous: only its author may ever see this applause.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the person reacted (Slack's event_ts, zero-padded): events can arrive out of
    # order (a retry after an un-react), and the latest one wins.
    reacted_ts: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts", "reactor_id", "emoji"),
        Index(None, "team_id", "channel_id", "created_at"),
        Index(None, "team_id", "author_id", "created_at"),
        Index(None, "team_id", "reactor_id", "created_at"),
        Index(None, "team_id", "entry_id"),
        # The foreign key's own lookup: deleting an entry finds its applause without a scan.
        Index(None, "entry_id"),
        # The kudos leaderboard and the digest read one channel's (or all) recent applause.
        Index(None, "team_id", "created_at"),
    )


class Reflection(Base):
    """A private HOPE reflection: readable by its author alone, until they share it."""

    __tablename__ = "reflections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    # The prompts as the author saw them, and the answers in the same order ("" if skipped).
    prompts: Mapped[list[str]] = mapped_column(JSON)
    answers: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The lesson the author made of it, once shared; NULL again if that lesson is deleted.
    shared_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="SET NULL"))

    __table_args__ = (
        Index(None, "team_id", "author_id", "created_at"),
        # The foreign key's own lookup: deleting an entry finds what was shared as it.
        Index(None, "shared_entry_id"),
    )


class ApplauseRemoval(Base):
    """A reaction taken back, remembered for a day so that a late copy of its
    `reaction_added` (Slack retries for minutes) does not count it again."""

    __tablename__ = "applause_removals"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    reactor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(100), primary_key=True)
    removed_ts: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index(None, "received_at"),)


class WorkspaceSettings(Base):
    """What a workspace admin chose; a missing row or a NULL means the defaults."""

    __tablename__ = "workspace_settings"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Emoji names that count as applause; NULL: every emoji counts.
    applause_emoji: Mapped[list[str] | None] = mapped_column(JSON)
    # The four HOPE prompts; NULL: the defaults of PRODUCT.md section 4.
    hope_prompts: Mapped[list[str] | None] = mapped_column(JSON)
    # Days until Debrief asks what came of an opportunity; NULL: the default (14), 0: never.
    check_back_days: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelSettings(Base):
    """Per-channel choices: a per-person leaderboard only where a channel turns it on."""

    __tablename__ = "channel_settings"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    leaderboard: Mapped[bool] = mapped_column(Boolean, default=False)
    # Days without a contribution before a card's collaborator is nudged; NULL: a week.
    nudge_days: Mapped[int | None] = mapped_column(Integer)


class Rotation(Base):
    """A channel's share-a-learning rotation: who takes turns, and when the team meets.

    Meeting times are wall-clock (`days`, `meeting_time`) in `tz_name`; the next meeting
    and its reminder are kept in UTC so the clock asks the database only for due ones."""

    __tablename__ = "rotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    # Weekdays as digits, Monday 0 ("024" is mon, wed, fri); empty: no schedule yet.
    days: Mapped[str] = mapped_column(String(7), default="")
    meeting_time: Mapped[str | None] = mapped_column(String(5))  # "09:30", local
    tz_name: Mapped[str | None] = mapped_column(String(64))
    lead_minutes: Mapped[int] = mapped_column(Integer, default=10)
    holiday_country: Mapped[str | None] = mapped_column(String(16))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_meeting_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_meeting_date: Mapped[date | None] = mapped_column(Date)  # its local date
    # meeting - lead; NULL when paused or unscheduled. The clock's only index.
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id"),
        Index(None, "next_reminder_at"),
    )


class RotationMember(Base):
    """Someone in a rotation. Their last turn is read from `turns`, so a pass costs nothing."""

    __tablename__ = "rotation_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    away_until: Mapped[date | None] = mapped_column(Date)  # inclusive, local date
    # Passed over on this country's public holidays (someone abroad from the team).
    holiday_country: Mapped[str | None] = mapped_column(String(16))
    # Set when Slack says the account is deactivated (users.info `deleted`).
    deactivated: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("rotation_id", "user_id"),
        # Whether a person is away anywhere (the check-back tick asks it of due people).
        Index(None, "team_id", "user_id"),
    )


class TurnStatus(enum.StrEnum):
    REMINDED = "reminded"    # the reminder names someone
    CONFIRMED = "confirmed"  # they pressed "I'll share"
    SHARED = "shared"        # they logged a lesson or opportunity that day
    PASSED = "passed"        # passed on until nobody was left
    SKIPPED = "skipped"      # no share at this meeting
    MISSED = "missed"        # nobody available (empty roster, everyone away)


class Turn(Base):
    """One meeting of a rotation. The unique (rotation, local date) row is the claim that
    makes two clock processes send one reminder."""

    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    meeting_date: Mapped[date] = mapped_column(Date)
    meeting_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[TurnStatus] = mapped_column(stored_as(TurnStatus, 16),
                                               default=TurnStatus.REMINDED)
    # Who passed this meeting on, in order: not asked again today, no penalty later.
    passed_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("rotation_id", "meeting_date"),
        Index(None, "rotation_id", "user_id", "status"),
        Index(None, "team_id", "user_id", "meeting_at"),
    )


class Digest(Base):
    """The organisation digest of a workspace: where and when it is posted each week."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday is 0, as in datetime
    minute_of_day: Mapped[int] = mapped_column(Integer)  # local wall-clock time
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The next occurrence in UTC, recomputed from the local time after each one.
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index(None, "next_run_at"),)


class DigestRun(Base):
    """One week's digest, claimed before it is sent: the unique key lets one clock win."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    # A stopped digest takes its runs along (a new one starts its own weeks).
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(10))  # ISO week of the local date, "2026-W48"
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("digest_id", "week"),)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """A Slack call to make, stored in the same transaction as what it reports.

    The row outlives crashes and restarts; `result_ts` records the message Slack made,
    so a row is never sent twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[OutboxAction] = mapped_column(stored_as(OutboxAction, 32))
    channel_id: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[int | None] = mapped_column(Integer)
    # The card a card action (post, refresh, debrief) is about.
    card_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[str | None] = mapped_column(String(32))
    target_ts: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(stored_as(OutboxStatus, 16),
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Failures that were neither Slack's outage nor its refusal (bot/outbox/retry.py).
    faults: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who holds the lease: the claim that took it, so a sender whose lease ran out and was
    # taken over never sends or records the row again.
    claim: Mapped[str | None] = mapped_column(String(32))
    # Since when Slack may hold this row's message without our knowing its ts (a reply
    # lost, a sender gone mid-send): it is looked for before the row is sent again.
    unsure_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index(None, "status", "next_attempt_at"),)


class PaceSlot(Base):
    """The shared pace of Slack calls when several processes send (PostgreSQL; SQLite
    paces in its one process): per key, a channel's id or "TEAM/method" for a
    workspace's method limit, the theoretical arrival time of the next call (GCRA), in
    seconds by the database's clock. A key whose time has passed says nothing more than
    no row, so idle keys are deleted (bot/db/pace.py)."""

    __tablename__ = "pace"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    tat: Mapped[float] = mapped_column(Double)


class ProcessedEvent(Base):
    """Events API deliveries already handled, so Slack's retries have their effect once."""

    __tablename__ = "processed_events"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index(None, "received_at"),)


class Workspace(Base):
    """A workspace the bot serves, and how to find its token: by team AND enterprise (an
    Enterprise Grid install is stored under both; an org-wide one under the enterprise
    alone). Once uninstalled it keeps its data until `erase_after`; a reinstall before
    then clears both dates."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    # Served by an org-wide install (`is_enterprise_install`): the token is the org's.
    org_install: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its data is erased (the clock claims it); NULL while installed.
    erase_after: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index(None, "erase_after"), Index(None, "enterprise_id"))
# --- The learning loop: capture, check back, health (migration 0014) ---


class CaptureCredit(enum.StrEnum):
    """Whether a captured message's speaker is named beside the entry."""

    ASKED = "asked"          # asked by DM; not named until they agree
    NAMED = "named"          # they agreed, or they captured it themselves
    ANONYMOUS = "anonymous"  # never named (they chose so, or nobody else sees the entry)


class Capture(Base):
    """An entry made from a Slack message (the message shortcut): whose words they were,
    and whether that person agreed to be named."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"),
                                          unique=True)
    # Who wrote the message; NULL for a bot's or an app's message.
    speaker_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))
    credit: Mapped[CaptureCredit] = mapped_column(stored_as(CaptureCredit, 16),
                                                  default=CaptureCredit.ASKED)
    # The DM that asked the speaker, once sent (its buttons are replaced by the answer).
    asked_channel_id: Mapped[str | None] = mapped_column(String(32))
    asked_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index(None, "team_id", "speaker_id"),)


class CheckBackPlan(enum.StrEnum):
    AFTER = "after"  # on a day (`due_at`)
    CARD = "card"    # when the opportunity's card closes
    NEVER = "never"


class CheckBackStatus(enum.StrEnum):
    OPEN = "open"        # waiting for its day (or its card)
    ASKED = "asked"      # the DM is out, no answer yet
    LEARNED = "learned"  # became a lesson (`lesson_id`)
    DROPPED = "dropped"  # its author let it go


class CheckBack(Base):
    """An opportunity followed until it becomes a lesson. `due_at` (UTC) is set only while
    a DM is to be sent: the clock's one lookup; the claim clears it."""

    __tablename__ = "checkbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))  # the opportunity's author
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"),
                                          unique=True)
    plan: Mapped[CheckBackPlan] = mapped_column(stored_as(CheckBackPlan, 16),
                                                default=CheckBackPlan.AFTER)
    status: Mapped[CheckBackStatus] = mapped_column(stored_as(CheckBackStatus, 16),
                                                    default=CheckBackStatus.OPEN)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The author's Slack time zone, once known: asks come at a civil hour of theirs.
    tz_name: Mapped[str | None] = mapped_column(String(64))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="SET NULL"))
    # When it became a lesson (the lesson's time): the health picture's weekly count.
    learned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    times_asked: Mapped[int] = mapped_column(Integer, default=0)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dm_channel_id: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index(None, "due_at"),
        Index(None, "team_id", "user_id", "status"),
        Index(None, "lesson_id"),
        # Covering, for the health picture's weekly count of opportunities → lessons.
        Index(None, "team_id", "learned_at", "lesson_id", "entry_id"),
    )


class Draft(Base):
    """What someone typed after `/debrief` without a kind, kept until they pick one."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index(None, "team_id", "user_id"), Index(None, "created_at"))


class HealthPost(Base):
    """A channel's weekly picture of how it learns (opt-in): where and when."""

    __tablename__ = "health_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday is 0
    minute_of_day: Mapped[int] = mapped_column(Integer)  # local wall-clock time
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "channel_id"), Index(None, "next_run_at"))


class HealthRun(Base):
    """One week's post of a channel's picture, claimed before it is sent: the unique key
    lets one clock win."""

    __tablename__ = "health_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[int] = mapped_column(ForeignKey("health_posts.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(10))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("post_id", "week"),)


# Multi-workspace installs (OAuth): slack_sdk's own tables, owned by our migrations.
INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"
# Room for a token sealed with Fernet (TOKEN_ENCRYPTION_KEY): a rotating token of about
# 150 characters is about 300 once encrypted, past slack_sdk's 200.
TOKEN_LENGTH = 1000
for _table in (
    SQLAlchemyInstallationStore.build_installations_table(Base.metadata, INSTALLATIONS_TABLE),
    SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE),
):
    for _column in _table.columns:
        if _column.name.endswith(("_token", "_refresh_token")):
            _column.type = String(TOKEN_LENGTH)
SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, OAUTH_STATES_TABLE)

__all__ = [
    "Applause",
    "ApplauseRemoval",
    "Base",
    "Capture",
    "CaptureCredit",
    "Card",
    "CardCollaborator",
    "CardStatus",
    "CheckBack",
    "CheckBackPlan",
    "CheckBackStatus",
    "ChannelSettings",
    "Digest",
    "DigestRun",
    "Workspace",
    "Draft",
    "HealthPost",
    "HealthRun",
    "WorkspaceSettings",
    "Entry",
    "StoredEntry",
    "Kind",
    "NudgeMute",
    "OutboxMessage",
    "OutboxStatus",
    "PaceSlot",
    "ProcessedEvent",
    "Reflection",
    "Rotation",
    "RotationMember",
    "Source",
    "Turn",
    "TurnStatus",
    "UTCDateTime",
    "Visibility",
    "utcnow",
]
