"""Applause: an emoji reaction on a message that carries someone's work.

A reaction counts once per (message, reacting person, emoji), enforced by the table's
unique key so that Slack's retries and concurrent copies count once across processes.
The author is found from the message itself (Slack names the bot as `item_user` for the
bot's own posts), through the lookups in `CARRIERS`: entries today; cards and shared
reflections register theirs with `register_carrier`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Text,
    bindparam,
    cast,
    delete,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.models import Applause, Entry, UTCDateTime, WorkspaceSettings, utcnow


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

CARRIERS: list[Carrier] = [ENTRY_CARRIER]


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
        _COUNT.update(_count_statements())


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


def add(connection: Connection, *, team_id: str, reactor_id: str, channel_id: str, ts: str,
        emoji: str) -> bool:
    """Count a reaction as applause; True when this call counted it.

    Ignored: messages that carry nobody's work, a person's reactions on their own work,
    and emoji the workspace does not count. One statement: this runs for every reaction
    anywhere in the workspace."""
    inserted = connection.execute(_COUNT[connection.dialect.name], {
        "team_id": team_id, "channel_id": channel_id, "ts": ts, "reactor_id": reactor_id,
        "emoji": emoji, "emoji_pattern": _json_member_pattern(base_emoji(emoji)),
        "now": utcnow(),
    }).first()
    return inserted is not None


def remove(connection: Connection, *, team_id: str, reactor_id: str, channel_id: str,
           ts: str, emoji: str) -> bool:
    """Take a reaction's applause back; True when there was some to take."""
    result = connection.execute(_DELETE, {"team_id": team_id, "channel_id": channel_id,
                                          "ts": ts, "reactor_id": reactor_id, "emoji": emoji})
    return (result.rowcount or 0) > 0


_DELETE = delete(Applause).where(
    Applause.team_id == bindparam("team_id"), Applause.channel_id == bindparam("channel_id"),
    Applause.message_ts == bindparam("ts"), Applause.reactor_id == bindparam("reactor_id"),
    Applause.emoji == bindparam("emoji"),
)

def _json_member_pattern(name: str) -> str:
    """A LIKE pattern matching `"name"` inside the stored JSON list of emoji names.
    Names are checked against [a-z0-9_+'-] when saved, so JSON writes them as they are."""
    escaped = name.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f'%"{escaped}"%'


def _count_statement(insert: Callable[..., Any]) -> Any:
    """INSERT … SELECT: the work the message carries, if the reactor is not its author
    and the workspace counts the emoji; a copy that lost the race does nothing."""
    carried = union_all(*CARRIERS).subquery()
    chosen = select(cast(WorkspaceSettings.applause_emoji, Text)).where(
        WorkspaceSettings.team_id == bindparam("team_id")).scalar_subquery()
    counts = or_(chosen.is_(None), chosen.in_(["null", "[]"]),
                 chosen.like(bindparam("emoji_pattern"), escape="/"))
    source = select(
        bindparam("team_id"), bindparam("channel_id"), bindparam("ts"),
        bindparam("reactor_id"), bindparam("emoji"), carried.c.author_id,
        carried.c.entry_id, carried.c.anonymous, bindparam("now", type_=UTCDateTime),
    ).where(carried.c.author_id != bindparam("reactor_id"), counts).limit(1)
    columns = ["team_id", "channel_id", "message_ts", "reactor_id", "emoji", "author_id",
               "entry_id", "anonymous", "created_at"]
    return (insert(Applause).from_select(columns, source).on_conflict_do_nothing()
            .returning(Applause.id))


def _count_statements() -> dict[str, Any]:
    return {"postgresql": _count_statement(postgresql.insert),
            "sqlite": _count_statement(sqlite.insert)}


_COUNT = _count_statements()
