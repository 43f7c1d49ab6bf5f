"""Logging, reading and deleting entries (wins, opportunities, lessons)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.db.models import Applause, Entry, Kind, Visibility, utcnow
from bot.services import cards, outbox, turns
from bot.services.errors import UserError

MAX_TEXT = 3000
SHARES_A_TURN = {Kind.LESSON, Kind.OPPORTUNITY}
KIND_ALIASES = {"win": Kind.WIN, "opportunity": Kind.OPPORTUNITY, "opp": Kind.OPPORTUNITY,
                "lesson": Kind.LESSON}
# A tag is #word; "&#39;" (an HTML entity) and "<#C123|name>" (a channel link) are not.
TAG_PATTERN = re.compile(r"(?<![\w&<])#([\w][\w-]{0,78})")


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
    source: str = "command"
    card_id: int | None = None


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
    has no slash-command response to carry it). An entry on a card (`card_id`, checked
    open by the caller) refreshes the card's tallies unless it is private.
    This is the acknowledgement's hot path, so it writes with Core statements rather
    than the ORM's unit of work.
    """
    text = validate_text(new.text)
    now = utcnow()
    entry = Entry(
        team_id=new.team_id, channel_id=new.channel_id, author_id=new.author_id,
        kind=str(new.kind), text=text, visibility=str(new.visibility),
        anonymous=new.anonymous, source=new.source, created_at=now,
        tags=" ".join(extract_tags(text)), card_id=new.card_id,
    )
    connection = db.connection()
    entry.id = connection.execute(_INSERT_ENTRY, {
        column: getattr(entry, column) for column in _ENTRY_COLUMNS
    }).scalar_one()
    calls = []
    if entry.visibility != Visibility.PRIVATE:
        calls.append(outbox.POST_ENTRY)
    if confirm:
        calls.append(outbox.CONFIRM_ENTRY)  # the modal's confirmation names related ones
    elif entry.kind in (Kind.OPPORTUNITY, Kind.LESSON):
        # "Have we learned this before?": found and sent after the ack (it can take tens of
        # milliseconds on a big workspace), queued in the same transaction as the entry.
        calls.append(outbox.RELATED_LESSONS)
    for action in calls:
        outbox.enqueue_fast(connection, team_id=entry.team_id, action=action,
                            channel_id=entry.channel_id, entry_id=entry.id,
                            user_id=entry.author_id, now=now)
    # Rotation (PRODUCT.md section 5): a lesson or opportunity logged on the day of one's
    # turn marks it shared. Only named, non-private entries: the reminder then says
    # "shared", which must not reveal a private or anonymous entry's author.
    if entry.kind in SHARES_A_TURN and not entry.anonymous \
            and entry.visibility != Visibility.PRIVATE:
        turns.mark_shared(db, entry.team_id, entry.author_id, now)
    if entry.card_id is not None and entry.visibility != Visibility.PRIVATE:
        cards.changed(db, entry.team_id, entry.card_id)
    db.commit()
    return entry


_ENTRY_COLUMNS = ("team_id", "channel_id", "author_id", "kind", "text", "visibility",
                  "anonymous", "source", "created_at", "tags", "card_id")
_INSERT_ENTRY = insert(Entry).returning(Entry.id)


def get_entry(db: Session, team_id: str, entry_id: int) -> Entry | None:
    return db.scalar(select(Entry).where(Entry.team_id == team_id, Entry.id == entry_id))


def delete_entry(db: Session, team_id: str, user_id: str, entry_id: int) -> Entry:
    """Delete one of the caller's own entries, and take its message out of the channel."""
    entry = get_entry(db, team_id, entry_id)
    if entry is None or entry.author_id != user_id:
        # The same answer whether it does not exist or is someone else's: no leak.
        raise EntryError(f"You have no entry with ID {entry_id}.")
    if entry.message_ts and entry.message_channel_id:
        outbox.enqueue(db, team_id=team_id, action=outbox.DELETE_MESSAGE,
                       channel_id=entry.message_channel_id, target_ts=entry.message_ts)
    # Its message, and the reactions on it, go away: so does its applause.
    db.execute(sql_delete(Applause).where(Applause.team_id == team_id,
                                          Applause.entry_id == entry.id))
    db.delete(entry)
    if entry.card_id is not None and entry.visibility != Visibility.PRIVATE:
        db.flush()
        cards.changed(db, team_id, entry.card_id)
    db.commit()
    return entry
