"""Capturing a learning from a Slack message (the message shortcut).

The entry's author is the person capturing. The words were the speaker's, so the speaker
is named beside the entry only if they captured it themselves or agree: they get a DM
(keep my name on it / make it anonymous / remove it), and until they answer the entry
says only that it was captured from a teammate's message, without a link (the link
would name them). A private entry asks nobody (nobody else will ever see it), and the
speaker of a bot's message is nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Capture, CaptureCredit, Entry, StoredEntry, Visibility, utcnow
from bot.ids import OutboxAction
from bot.services import entries, outbox
from bot.services.errors import UserError

# What the speaker may answer.
KEEP_NAME, ANONYMOUS, REMOVE = "named", "anonymous", "removed"


class CaptureError(UserError):
    """An answer that cannot be taken; fit to show the person."""


@dataclass(frozen=True)
class Message:
    """The message a learning was captured from."""

    speaker_id: str | None
    channel_id: str
    ts: str
    permalink: str | None = None


def record(db: Session, entry: StoredEntry, message: Message) -> Capture:
    """Note that `entry` (just logged) was captured from `message`, and ask its speaker
    whether they may be named, unless there is no one to ask. In the caller's unit of work."""
    speaker = message.speaker_id
    if speaker is None or speaker == entry.author_id:
        credit = CaptureCredit.NAMED
    elif entry.visibility == Visibility.PRIVATE:
        credit = CaptureCredit.ANONYMOUS  # a private entry stays private: nobody is told
    else:
        credit = CaptureCredit.ASKED
    capture = Capture(team_id=entry.team_id, entry_id=entry.id, speaker_id=speaker,
                      channel_id=message.channel_id, message_ts=message.ts,
                      permalink=(message.permalink or None), credit=credit,
                      created_at=utcnow())
    db.add(capture)
    if credit == CaptureCredit.ASKED and speaker is not None:
        outbox.enqueue(db, team_id=entry.team_id, action=OutboxAction.CAPTURE_ASK,
                       channel_id=speaker, user_id=speaker, entry_id=entry.id)
    return capture


def of_entry(db: Session, team_id: str, entry_id: int) -> Capture | None:
    return db.scalar(select(Capture).where(Capture.team_id == team_id,
                                           Capture.entry_id == entry_id))


def asked(db: Session, team_id: str, entry_id: int, channel_id: str | None, ts: str) -> None:
    """The speaker's DM is out: keep where, so their answer can replace its buttons."""
    capture = of_entry(db, team_id, entry_id)
    if capture is not None:
        capture.asked_channel_id, capture.asked_ts = channel_id, ts


@dataclass(frozen=True)
class Credit:
    """What an entry's message says of the message it was captured from."""

    speaker_id: str | None  # named beside the entry; None: not named
    permalink: str | None  # shown only with the speaker's consent
    asked: bool  # the speaker has not answered yet


def credit_for(db: Session, entry: Entry) -> Credit | None:
    """The capture line of an entry's message; None for an entry not captured."""
    capture = of_entry(db, entry.team_id, entry.id)
    if capture is None:
        return None
    if capture.speaker_id == entry.author_id:
        # Their own words: the byline names them already, unless the entry is anonymous,
        # and then the link would name them.
        return Credit(None, None if entry.anonymous else capture.permalink, False)
    if capture.credit == CaptureCredit.NAMED:
        return Credit(capture.speaker_id, capture.permalink, False)
    return Credit(None, None, capture.credit == CaptureCredit.ASKED)


@dataclass(frozen=True)
class Answer:
    capture_id: int
    choice: str
    entry_id: int
    author_id: str


def answer(db: Session, team_id: str, user_id: str, capture_id: int, choice: str) -> Answer:
    """The speaker's answer: be named, stay anonymous, or have the entry removed (with its
    message). Only the speaker may answer; they may change their mind later."""
    capture = db.scalar(select(Capture).where(Capture.team_id == team_id,
                                              Capture.id == capture_id))
    if capture is None or capture.speaker_id != user_id:
        raise CaptureError("That learning is no longer there.")
    entry = db.get(Entry, capture.entry_id)
    if entry is None:
        raise CaptureError("That learning is no longer there.")
    result = Answer(capture.id, choice, entry.id, entry.author_id)
    where = capture.asked_channel_id, capture.asked_ts
    if choice == REMOVE:
        entries.remove_entry(db, entry)  # takes the capture along (ON DELETE CASCADE)
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.NOTIFY_USER,
                       channel_id=entry.author_id, user_id=entry.author_id,
                       payload={"text": removed_note(entry)})
    elif choice in (KEEP_NAME, ANONYMOUS):
        capture.credit = CaptureCredit(choice)
        if entry.visibility != Visibility.PRIVATE:
            # Its message drawn again with the credit (bot/outbox/senders/entries.py); one
            # still being posted is updated after, one never posted draws it when it is.
            outbox.enqueue(db, team_id=team_id, action=OutboxAction.UPDATE_ENTRY,
                           channel_id=entry.message_channel_id or entry.channel_id,
                           entry_id=entry.id)
    else:
        raise CaptureError("Pick one of the buttons.")
    if where[0] and where[1]:
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.CAPTURE_ANSWERED,
                       channel_id=where[0], user_id=user_id, target_ts=where[1],
                       entry_id=None if choice == REMOVE else entry.id,
                       payload={"choice": choice, "capture_id": capture_id})
    return result


def removed_note(entry: Entry) -> str:
    return (f":wastebasket: The learning you captured from a teammate's message (ID {entry.id}) "
            "was removed: the person who wrote the message asked for it. Nothing else "
            "changed.")
