"""Logging, reading and deleting entries (wins, opportunities, lessons)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, literal, or_, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert as sql_insert
from sqlalchemy.orm import Session

from bot.db import fastpath
from bot.db.models import (
    Applause,
    Entry,
    Kind,
    OutboxMessage,
    OutboxStatus,
    Source,
    StoredEntry,
    Turn,
    Visibility,
    utcnow,
)
from bot.ids import OutboxAction
from bot.services import cards, checkback, collaborators, outbox, turns
from bot.services.errors import UserError

MAX_TEXT = 3000
SHARES_A_TURN = {Kind.LESSON, Kind.OPPORTUNITY}
KIND_ALIASES = {"win": Kind.WIN, "opportunity": Kind.OPPORTUNITY, "opp": Kind.OPPORTUNITY,
                "lesson": Kind.LESSON}
# A tag is #word; "&#39;" (an HTML entity) and "<#C123|name>" (a channel link) are not.
# A tag is as long as its word: never cut off.
TAG_PATTERN = re.compile(r"(?<![\w&<])#([\w][\w-]*)")


class EntryError(UserError):
    """Input that cannot become an entry; the message is fit to show the person."""


@dataclass(frozen=True)
class NewEntry:
    team_id: str
    channel_id: str
    author_id: str
    kind: Kind
    text: str
    visibility: Visibility = Visibility.TEAM
    anonymous: bool = False
    source: Source = Source.COMMAND
    card_id: int | None = None


def storable(text: str) -> bool:
    """Whether a database can keep `text` as it is: PostgreSQL refuses the NUL character."""
    return "\x00" not in text


NOT_STORABLE = ("Your text holds a NUL character (\\0), which cannot be stored. Nothing "
                "was saved: take it out and try again.")


def validate_text(text: str) -> str:
    """Return the text as typed, or raise EntryError if it is empty, too long, or holds
    what no database can keep."""
    if not text or not text.strip():
        raise EntryError("There is nothing to log: tell me what happened.")
    if not storable(text):
        raise EntryError(NOT_STORABLE)
    if len(text) > MAX_TEXT:
        raise EntryError(
            f"That is {len(text):,} characters; an entry holds at most {MAX_TEXT:,}. "
            "Nothing was saved: shorten it and try again."
        )
    return text


def extract_tags(text: str) -> list[str]:
    """The distinct `#words` of a text, lower-cased, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in TAG_PATTERN.finditer(text):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def log_entry(db: Session, new: NewEntry, *, confirm: bool = False,
              more: bool = False) -> StoredEntry:
    """Store an entry and queue the Slack calls it owes, in the unit of work `db` (its
    owner commits): its post when others may see it, and the related lessons for an
    opportunity or a lesson. `confirm` queues an ephemeral confirmation to the author
    instead (the modal has no slash-command response to carry it).

    A lesson or opportunity marks the author's rotation turn of that day shared, and an
    entry on a card (`card_id`, checked open by the caller) refreshes the card's tallies
    unless it is private and counts for its collaborators (services/collaborators.py),
    all in the same transaction. An opportunity plans its check-back
    (bot/services/checkback.py). Without any of these, the entry is the unit of work's
    whole write: `/debrief win` costs one round trip (bot/db/fastpath.py). `more`: the
    caller writes more in this unit of work after it (so it must not be the whole write).
    """
    text = validate_text(new.text)
    kind, visibility, now = Kind(new.kind), Visibility(new.visibility), utcnow()
    # Others read it under its author's name.
    named = not new.anonymous and visibility != Visibility.PRIVATE
    values: dict[str, Any] = {  # _INSERT_ENTRY's columns
        "team_id": new.team_id, "channel_id": new.channel_id, "author_id": new.author_id,
        "kind": kind, "text": text, "visibility": visibility, "anonymous": new.anonymous,
        "source": Source(new.source), "created_at": now,
        "tags": " ".join(extract_tags(text)), "card_id": new.card_id}
    if more:
        db.connection()  # begin: what the caller writes next commits with the entry
    # Read before the write: it begins the transaction the check-back joins.
    check_back_days = checkback.default_days(db, new.team_id) \
        if kind == Kind.OPPORTUNITY else None
    # Rotation (PRODUCT.md section 5): a lesson or opportunity logged on the day of one's
    # turn marks it shared. Only a named one others can read: the reminder then says
    # "shared", which must not reveal a private or anonymous entry's author.
    if kind in SHARES_A_TURN and named and fastpath.peek(db, _OPEN_TURN, {
            **values, "turn_from": now - turns.SHARE_WINDOW,
            "turn_to": now + turns.SHARE_WINDOW}):
        turns.mark_shared(db, new.team_id, new.author_id, now, new.channel_id)
    if new.card_id is not None:
        if visibility != Visibility.PRIVATE:
            cards.changed(db, new.team_id, new.card_id)
        # Who the card asks, and their nudge clock.
        collaborators.on_entry(db, team_id=new.team_id, card_id=new.card_id,
                               author_id=new.author_id, named=named, at=now)
    actions = _outbox_actions(kind, visibility, confirm)
    entry = StoredEntry(id=fastpath.run(db, _entry_chain(actions), values), **values)
    for action in actions:
        outbox.noted(db, action, new.channel_id)
    if check_back_days is not None:
        checkback.start(db, entry, check_back_days)
    return entry


def _outbox_actions(kind: Kind, visibility: Visibility,
                    confirm: bool) -> tuple[OutboxAction, ...]:
    """The Slack calls an entry owes, queued with it."""
    actions = []
    if visibility != Visibility.PRIVATE:
        actions.append(OutboxAction.POST_ENTRY)
    if confirm:
        actions.append(OutboxAction.CONFIRM_ENTRY)  # the modal's confirmation names related ones
    elif kind in (Kind.OPPORTUNITY, Kind.LESSON):
        # "Have we learned this before?": found and sent after the ack (it can take tens of
        # milliseconds on a big workspace), queued in the same transaction as the entry.
        actions.append(OutboxAction.RELATED_LESSONS)
    return tuple(actions)


_ENTRY_COLUMNS = ("team_id", "channel_id", "author_id", "kind", "text", "visibility",
                  "anonymous", "source", "created_at", "tags", "card_id")


_INSERT_ENTRY = sql_insert(Entry).values(
    {column: bindparam(column, type_=Entry.__table__.c[column].type)
     for column in _ENTRY_COLUMNS}).returning(Entry.id)

# Whether the author may have a turn to mark shared (turns.mark_shared decides).
_OPEN_TURN = select(exists().where(
    Turn.team_id == bindparam("team_id"), Turn.user_id == bindparam("author_id"),
    Turn.channel_id == bindparam("channel_id"),
    Turn.meeting_at.between(bindparam("turn_from", type_=Turn.meeting_at.type),
                            bindparam("turn_to", type_=Turn.meeting_at.type)),
    or_(*(Turn.status == str(status) for status in turns.OPEN))))


@functools.cache
def _entry_chain(actions: tuple[OutboxAction, ...]) -> fastpath.Chain:
    """The entry and its queued calls, as one write (bot/db/fastpath.py)."""
    def call(action: OutboxAction) -> Callable[[fastpath.Kit], Any]:
        return lambda kit: sql_insert(OutboxMessage).values(
            outbox.entry_call(kit.value("entry", "id"), literal(str(action))))

    return fastpath.Chain(
        fastpath.Step("entry", lambda _kit: _INSERT_ENTRY),
        *(fastpath.Step(f"call_{n}", call(action)) for n, action in enumerate(actions)),
        result="entry")


def get_entry(db: Session, team_id: str, entry_id: int) -> Entry | None:
    return db.scalar(select(Entry).where(Entry.team_id == team_id, Entry.id == entry_id))


def record_message(db: Session, team_id: str, entry_id: int, channel_id: str, ts: str,
                   *, permalink: str | None = None) -> None:
    """The entry's message is in the channel: keep where, for applause, and Slack's link to
    it (None when Slack would not say: readers then build one). An entry deleted while it
    was being posted has its fresh message taken down again."""
    entry = get_entry(db, team_id, entry_id)
    if entry is not None:
        entry.message_channel_id = channel_id
        entry.message_ts = ts
        entry.message_permalink = permalink
    else:
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.DELETE_MESSAGE,
                       channel_id=channel_id, target_ts=ts)


def own_entry(db: Session, team_id: str, user_id: str, entry_id: int) -> Entry:
    """One of the caller's own entries; anyone else's does not exist for them."""
    entry = get_entry(db, team_id, entry_id)
    if entry is None or entry.author_id != user_id:
        # The same answer whether it does not exist or is someone else's: no leak.
        raise EntryError(f"You have no entry with ID {entry_id}.")
    return entry


def post_on_its_way(db: Session, entry: Entry) -> bool:
    """Whether the entry's post is still queued or being sent."""
    return db.scalar(select(OutboxMessage.id).where(
        OutboxMessage.team_id == entry.team_id, OutboxMessage.entry_id == entry.id,
        OutboxMessage.action == OutboxAction.POST_ENTRY,
        OutboxMessage.status == OutboxStatus.PENDING).limit(1)) is not None


def edit_entry(db: Session, team_id: str, user_id: str, entry_id: int, text: str) -> Entry:
    """Change the text of one of the caller's own entries; its #tags follow the new text.

    Queues what shows it again: its message (chat.update, the same message: the applause
    on it stays) and, on a closed card, the card's debrief. The full-text index follows
    by itself: SQLite's update trigger, PostgreSQL's generated column. Kind, visibility,
    anonymity and card stay as they were. EntryError for text that could not be logged,
    or an entry that is not the caller's."""
    text = validate_text(text)
    entry = own_entry(db, team_id, user_id, entry_id)
    if text == entry.text:
        return entry
    entry.text = text
    entry.tags = " ".join(extract_tags(text))
    db.flush()
    if entry.visibility != Visibility.PRIVATE:
        # Queued even while the post is on its way: it may have been drawn before this.
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.UPDATE_ENTRY,
                       channel_id=entry.message_channel_id or entry.channel_id,
                       entry_id=entry.id, user_id=user_id)
        if entry.card_id is not None:
            cards.debrief_changed(db, team_id, entry.card_id)
    return entry


def delete_entry(db: Session, team_id: str, user_id: str, entry_id: int) -> Entry:
    """Delete one of the caller's own entries, and take its message out of the channel."""
    return remove_entry(db, own_entry(db, team_id, user_id, entry_id))


def remove_entry(db: Session, entry: Entry) -> Entry:
    """Delete an entry (whoever asked was checked by the caller), its applause, and its
    message in the channel."""
    team_id = entry.team_id
    if entry.message_ts and entry.message_channel_id:
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.DELETE_MESSAGE,
                       channel_id=entry.message_channel_id, target_ts=entry.message_ts)
    # Its message, and the reactions on it, go away: so does its applause.
    db.execute(sql_delete(Applause).where(Applause.team_id == team_id,
                                          Applause.entry_id == entry.id))
    db.delete(entry)
    if entry.card_id is not None and entry.visibility != Visibility.PRIVATE:
        db.flush()
        cards.changed(db, team_id, entry.card_id)
        cards.debrief_changed(db, team_id, entry.card_id)
    return entry
