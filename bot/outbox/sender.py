"""What a sender is: the one protocol between the delivery core and the senders, what a
send returns, and the database as the core lends it to them.

A sender knows one Slack surface's outbox actions from end to end: it draws the message
from the database when it is sent, makes the Slack call(s), says what to record once
they worked, and what to do when they never will. It never commits: the core does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.services import outbox

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sent:
    """What a send produced: `ts`, the message ts (or file id) kept on the outbox row;
    `revision`, the revision of the record the message was drawn from, for the sender's
    `sent` to record as shown (a card's); None when it showed nothing new; `link`, the
    message's permalink; `channel`, the channel Slack put the message in (a DM's own id,
    which chat.update needs)."""

    ts: str | None = None
    revision: int | None = None
    # Slack's permalink to the message posted, when the sender asked for it.
    link: str | None = None
    channel: str | None = None


class Work:
    """The database as the core lends it to a sender's `send`: short sessions, each
    closed before the sender's next Slack call (on SQLite an open `write` holds the
    writer lock), and committed by the core. Nobody waits on them as on a request: their
    statements may run longer (`Database.session(patient=True)`)."""

    def __init__(self, db: Database):
        self.db = db

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session to draw a message from, which only reads (on SQLite it cannot
        write, and never holds up a request's write); closed with a rollback."""
        with self.db.session(reading=True) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One unit of work, committed when the block ends without an error. For what a
        send must record before its Slack call can go on: who the rotation reminder names
        once Slack said the one up is deactivated, a schedule whose confirmation says how
        it went. What can wait until the call worked belongs in `Sender.sent`."""
        with self.db.session(patient=True) as session:
            yield session
            session.commit()

    def index_pending(self) -> None:
        """SQLite: index the entries just logged, in a committed transaction of its own
        (bot/db), so that a search in a `read` session, which rolls back, finds them."""
        self.db.index_pending()


class Sender(Protocol):
    """One Slack surface's outbox actions. Subclass it to take the quiet defaults of
    `sent` and `failed`."""

    actions: frozenset[OutboxAction]

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        """Draw the message (in `work.read()`, closed before any Slack call), make the
        Slack call(s) and say what they produced. Slack's errors propagate: the retry
        rules (bot/outbox/retry.py) sort them."""
        ...

    def sent(self, db: Session, row: OutboxMessage, result: Sent) -> None:
        """What to record once `send` worked, in the core's unit of work that marks the
        row sent."""
        return None

    def failed(self, db: Session, row: OutboxMessage, error: str, *, gave_up: bool) -> None:
        """The row will never be sent: Slack refused it, or it `gave_up` after every
        retry. Tell whoever asked, in the core's unit of work that marks it failed."""
        return None


def dispatch(senders: Iterable[Sender]) -> dict[str, Sender]:
    """The dispatch table: each action's sender, by the name a row stores. ValueError
    unless every OutboxAction has exactly one, so a new action without a sender stops
    the process at start."""
    table: dict[str, Sender] = {}
    for sender in senders:
        for action in sender.actions:
            if action in table:
                raise ValueError(f"two senders for {action}: {table[action]!r}, {sender!r}")
            table[action] = sender
    missing = sorted(set(OutboxAction) - set(table))
    if missing:
        raise ValueError(f"no sender for {', '.join(missing)}")
    return table


def joining(slack: WebClient, channel: str, call: Callable[[], T]) -> T:
    """Make a call that posts in `channel`; in a public channel the bot is not in, join
    it and make the call again."""
    try:
        return call()
    except SlackApiError as error:
        if error.response.get("error") != "not_in_channel":
            raise
        slack.conversations_join(channel=channel)
        return call()


def redraw(slack: WebClient, row: OutboxMessage, body: dict) -> str | None:
    """chat.update of the message `row.target_ts` in `row.channel_id` with `body`; a
    message deleted meanwhile needs nothing more."""
    try:
        slack.chat_update(channel=row.channel_id, ts=row.target_ts or "", **body)
    except SlackApiError as error:
        if error.response.get("error") != "message_not_found":
            raise
    return row.target_ts


def tell(db: Session, row: OutboxMessage, user_id: str, text: str) -> None:
    """Queue a DM to `user_id` in the current unit of work (a failure notice)."""
    outbox.enqueue(db, team_id=row.team_id, action=OutboxAction.NOTIFY_USER,
                   channel_id=user_id, user_id=user_id, payload={"text": text})
