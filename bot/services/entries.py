"""Logging, reading and deleting entries (wins, opportunities, lessons)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.db.models import Entry, EntryTag, Kind, Visibility
from bot.services import outbox

MAX_TEXT = 3000
KIND_ALIASES = {"win": Kind.WIN, "opportunity": Kind.OPPORTUNITY, "opp": Kind.OPPORTUNITY,
                "lesson": Kind.LESSON}
# A tag is #word; "&#39;" (an HTML entity) and "<#C123|name>" (a channel link) are not.
TAG_PATTERN = re.compile(r"(?<![\w&<])#([\w][\w-]{0,78})")


class EntryError(ValueError):
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
    source: str = "command"


def validate_text(text: str) -> str:
    """Return the text as typed, or raise EntryError if it is empty or too long."""
    if not text or not text.strip():
        raise EntryError("There is nothing to log: tell me what happened.")
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


def log_entry(db: Session, new: NewEntry, *, confirm: bool = False) -> Entry:
    """Store an entry and, when others may see it, queue its post; commit both at once.

    `confirm` also queues an ephemeral confirmation to the author (for the modal, which
    has no slash-command response to carry it).
    """
    text = validate_text(new.text)
    entry = Entry(
        team_id=new.team_id,
        channel_id=new.channel_id,
        author_id=new.author_id,
        kind=new.kind,
        text=text,
        visibility=new.visibility,
        anonymous=new.anonymous,
        source=new.source,
    )
    entry.tags = [EntryTag(tag=tag, team_id=new.team_id) for tag in extract_tags(text)]
    db.add(entry)
    db.flush()
    if entry.visibility != Visibility.PRIVATE:
        outbox.enqueue(db, team_id=entry.team_id, action=outbox.POST_ENTRY,
                       channel_id=entry.channel_id, entry_id=entry.id)
    if confirm:
        outbox.enqueue(db, team_id=entry.team_id, action=outbox.CONFIRM_ENTRY,
                       channel_id=entry.channel_id, entry_id=entry.id, user_id=entry.author_id)
    db.commit()
    return entry


def get_entry(db: Session, team_id: str, entry_id: int) -> Entry | None:
    return db.scalar(
        select(Entry).where(Entry.team_id == team_id, Entry.id == entry_id)
        .options(selectinload(Entry.tags))
    )


def delete_entry(db: Session, team_id: str, user_id: str, entry_id: int) -> Entry:
    """Delete one of the caller's own entries, and take its message out of the channel."""
    entry = get_entry(db, team_id, entry_id)
    if entry is None or entry.author_id != user_id:
        # The same answer whether it does not exist or is someone else's: no leak.
        raise EntryError(f"You have no entry with ID {entry_id}.")
    if entry.message_ts and entry.message_channel_id:
        outbox.enqueue(db, team_id=team_id, action=outbox.DELETE_MESSAGE,
                       channel_id=entry.message_channel_id, target_ts=entry.message_ts)
    db.delete(entry)
    db.commit()
    return entry
