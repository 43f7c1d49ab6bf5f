"""Applause: an emoji reaction on a message that carries someone's work.

A reaction counts once per (message, reacting person, emoji), enforced by the table's
unique key so that Slack's retries and concurrent copies count once across processes.
The author is found from the message itself (Slack names the bot as `item_user` for the
bot's own posts), through the lookups in `CARRIERS`: entries today; cards and shared
reflections register theirs with `register_carrier`. Reactions may arrive out of order
(Slack retries a failed delivery minutes later): the latest of "added" and "removed", by
Slack's `event_ts`, wins.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    false,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.models import (
    Applause,
    ApplauseRemoval,
    Card,
    Entry,
    UTCDateTime,
    WorkspaceSettings,
    utcnow,
)


@dataclass(frozen=True)
class Applauded:
    """Whose work a message carries: the applause goes to `author_id`."""

    author_id: str
    entry_id: int | None = None
    # Anonymous work: its applause is shown to its author alone.
    anonymous: bool = False


# A carrier is a SELECT of (author_id, entry_id, anonymous) for the work a message carries,
# at most one row, with the bind parameters :team_id, :channel_id and :ts (the message).
Carrier = Select[tuple[str, int | None, bool]]

ENTRY_CARRIER: Carrier = select(
    Entry.author_id, Entry.id.label("entry_id"), Entry.anonymous
).where(
    Entry.team_id == bindparam("team_id"),
    Entry.message_channel_id == bindparam("channel_id"),
    Entry.message_ts == bindparam("ts"),
)

# A card's own message: applause for the person who opened the card.
CARD_CARRIER: Carrier = select(
    Card.opened_by.label("author_id"), cast(null(), Integer).label("entry_id"),
    false().label("anonymous"),
).where(
    Card.team_id == bindparam("team_id"),
    Card.channel_id == bindparam("channel_id"),
    Card.message_ts == bindparam("ts"),
)

CARRIERS: list[Carrier] = [ENTRY_CARRIER, CARD_CARRIER]


def _lookup_statement() -> Select:  # type: ignore[type-arg]
    """What a message carries, and the workspace's emoji choice, in one round trip: it
    runs for every reaction anywhere in the workspace. Built once, not per reaction."""
    carried = union_all(*CARRIERS).subquery()
    chosen = select(WorkspaceSettings.applause_emoji).where(
        WorkspaceSettings.team_id == bindparam("team_id")).scalar_subquery()
    return select(carried.c.author_id, carried.c.entry_id, carried.c.anonymous,
                  chosen.label("chosen")).limit(1)


_LOOKUP = _lookup_statement()


def register_carrier(carrier: Carrier) -> None:
    """Let another kind of message (a card, a shared reflection) receive applause."""
    global _LOOKUP
    if carrier not in CARRIERS:
        CARRIERS.append(carrier)
        _LOOKUP = _lookup_statement()
        _COUNT.update(_statements(_count_statement))
        _REMEMBER.update(_statements(_remember_statement))


def _lookup(connection: Connection, team_id: str, channel_id: str,
            ts: str) -> tuple[Applauded | None, list[str] | None]:
    row = connection.execute(_LOOKUP, {"team_id": team_id, "channel_id": channel_id,
                                       "ts": ts}).first()
    if row is None:
        return None, None
    applauded = Applauded(author_id=row.author_id, entry_id=row.entry_id,
                          anonymous=bool(row.anonymous))
    return applauded, row.chosen or None


def find_applauded(connection: Connection, team_id: str, channel_id: str,
                   ts: str) -> Applauded | None:
    """What the message at (channel, ts) carries, or None when it is not ours to count."""
    return _lookup(connection, team_id, channel_id, ts)[0]


_SKIN_TONE = re.compile(r"::skin-tone-\d$")


def base_emoji(name: str) -> str:
    """`+1::skin-tone-3` and `+1` are the same emoji as far as settings go."""
    return _SKIN_TONE.sub("", name)


def reacted_at(event_ts: str | None) -> str:
    """Slack's event_ts ("1700000000.000100") as a string that sorts in time order."""
    try:
        seconds = Decimal(event_ts or "")
    except InvalidOperation:
        seconds = Decimal("NaN")
    if not seconds.is_finite() or seconds < 0:
        seconds = Decimal(f"{time.time():.6f}")
    return f"{seconds:017.6f}"


def add(connection: Connection, *, team_id: str, reactor_id: str, channel_id: str, ts: str,
        emoji: str, event_ts: str | None = None) -> bool:
    """Count a reaction as applause; True when this call counted (or refreshed) it.

    Ignored: messages that carry nobody's work, a person's reactions on their own work,
    emoji the workspace does not count, and a late copy of a reaction that was taken back
    since. One statement: this runs for every reaction anywhere in the workspace."""
    counted = connection.execute(_COUNT[connection.dialect.name], {
        "team_id": team_id, "channel_id": channel_id, "ts": ts, "reactor_id": reactor_id,
        "emoji": emoji, "emoji_pattern": _json_member_pattern(base_emoji(emoji)),
        "reacted": reacted_at(event_ts), "now": utcnow(),
    }).first()
    return counted is not None


def remove(connection: Connection, *, team_id: str, reactor_id: str, channel_id: str,
           ts: str, emoji: str, event_ts: str | None = None) -> bool:
    """Take a reaction's applause back; True when there was some to take. The removal is
    remembered (on messages that carry work) so a late copy of the reaction is ignored."""
    values = {"team_id": team_id, "channel_id": channel_id, "ts": ts,
              "reactor_id": reactor_id, "emoji": emoji, "reacted": reacted_at(event_ts),
              "now": utcnow()}
    result = connection.execute(_DELETE, values)
    connection.execute(_REMEMBER[connection.dialect.name], values)
    return (result.rowcount or 0) > 0


_KEY = {"team_id": "team_id", "channel_id": "channel_id", "message_ts": "ts",
        "reactor_id": "reactor_id", "emoji": "emoji"}


def _same_reaction(table: Any) -> list[Any]:
    return [getattr(table, column) == bindparam(param) for column, param in _KEY.items()]


# Only what an earlier reaction added: a re-react that overtook this removal stays.
_DELETE = delete(Applause).where(
    *_same_reaction(Applause),
    or_(Applause.reacted_ts.is_(None), Applause.reacted_ts < bindparam("reacted")),
)


def _json_member_pattern(name: str) -> str:
    """A LIKE pattern matching `"name"` inside the stored JSON list of emoji names.
    Names are checked against [a-z0-9_+'-] when saved, so JSON writes them as they are."""
    escaped = name.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f'%"{escaped}"%'


def _count_statement(insert: Callable[..., Any]) -> Any:
    """INSERT … SELECT: the work the message carries, if the reactor is not its author,
    the workspace counts the emoji and no later removal is known. A copy that lost the
    race to insert changes nothing; a newer reaction refreshes the time."""
    carried = union_all(*CARRIERS).subquery()
    chosen = select(cast(WorkspaceSettings.applause_emoji, Text)).where(
        WorkspaceSettings.team_id == bindparam("team_id")).scalar_subquery()
    counts = or_(chosen.is_(None), chosen.in_(["null", "[]"]),
                 chosen.like(bindparam("emoji_pattern"), escape="/"))
    taken_back = exists().where(*_same_reaction(ApplauseRemoval),
                                ApplauseRemoval.removed_ts >= bindparam("reacted"))
    source = select(
        bindparam("team_id"), bindparam("channel_id"), bindparam("ts"),
        bindparam("reactor_id"), bindparam("emoji"), carried.c.author_id,
        carried.c.entry_id, carried.c.anonymous, bindparam("reacted"),
        bindparam("now", type_=UTCDateTime),
    ).where(carried.c.author_id != bindparam("reactor_id"), counts, ~taken_back).limit(1)
    columns = ["team_id", "channel_id", "message_ts", "reactor_id", "emoji", "author_id",
               "entry_id", "anonymous", "reacted_ts", "created_at"]
    statement = insert(Applause).from_select(columns, source)
    return statement.on_conflict_do_update(
        index_elements=list(_KEY), set_={"reacted_ts": statement.excluded.reacted_ts},
        where=or_(Applause.reacted_ts.is_(None),
                  Applause.reacted_ts < statement.excluded.reacted_ts),
    ).returning(Applause.id)


def _remember_statement(insert: Callable[..., Any]) -> Any:
    """Remember a removal, keeping the latest; only on messages that carry work."""
    carried = union_all(*CARRIERS).subquery()
    source = select(
        bindparam("team_id"), bindparam("channel_id"), bindparam("ts"),
        bindparam("reactor_id"), bindparam("emoji"), bindparam("reacted"),
        bindparam("now", type_=UTCDateTime),
    ).where(exists(select(carried.c.author_id)))
    statement = insert(ApplauseRemoval).from_select(
        [*_KEY, "removed_ts", "received_at"], source)
    return statement.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={"removed_ts": statement.excluded.removed_ts,
              "received_at": statement.excluded.received_at},
        where=ApplauseRemoval.removed_ts < statement.excluded.removed_ts,
    )


def _statements(build: Callable[[Callable[..., Any]], Any]) -> dict[str, Any]:
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


_COUNT = _statements(_count_statement)
_REMEMBER = _statements(_remember_statement)
