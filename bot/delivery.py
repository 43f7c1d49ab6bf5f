"""Sends what the outbox holds to Slack, after the ack, retrying until it lands.

One `OutboxWorker` thread runs in every process that serves requests or the clock. Rows
are leased in the database, so any number of workers can share one outbox safely.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db import Database
from bot.db.models import OutboxMessage, OutboxStatus, utcnow
from bot.ids import OutboxAction
from bot.pacing import ChannelPacer
from bot.rotation_delivery import RotationSender
from bot.senders import (
    CardSender,
    ExportSender,
    NotYet,
    card_thread,
    failure_notice,
    post_in_channel,
    slack_failed,
)
from bot.services import cards, digest, entries, home, outbox, search
from bot.views.digest import digest_message
from bot.views.entries import confirmation, entry_message
from bot.views.home import home_view
from bot.views.search import related_lessons

log = logging.getLogger(__name__)

# Slack errors that say "try again later" rather than "this will never work".
TRANSIENT_ERRORS = {
    "ratelimited",
    "rate_limited",  # chat.postMessage: "posted too many messages"
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}


class Retry(Exception):
    """Try again later. `counted`: whether this try uses up one of the row's attempts (a
    429 rate limit does not)."""

    def __init__(self, error: str, retry_after: float | None = None, *, counted: bool = True):
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after
        self.counted = counted


class Permanent(Exception):
    pass


ClientFor = Callable[[str], WebClient]


class Delivery:
    """Turns outbox rows into Slack calls and records what came of each."""

    def __init__(self, db: Database, client_for: ClientFor, retry_base: float = 2.0):
        self.db = db
        self.client_for = client_for
        self.retry_base = retry_base
        self.pacer = ChannelPacer()
        self.handlers: dict[str, Callable[[WebClient, OutboxMessage], str | None]] = {
            OutboxAction.POST_ENTRY: self._post_entry,
            OutboxAction.DELETE_MESSAGE: self._delete_message,
            OutboxAction.NOTIFY_USER: self._notify_user,
            OutboxAction.CONFIRM_ENTRY: self._confirm_entry,
            OutboxAction.PUBLISH_HOME: self._publish_home,
            OutboxAction.EPHEMERAL: self._ephemeral,
            **CardSender(db).handlers(),
            **ExportSender(db).handlers(),
            OutboxAction.POST_DIGEST: self._post_digest,
            OutboxAction.RELATED_LESSONS: self._related_lessons,
        }
        self.rotation = RotationSender(db)
        self.handlers.update(self.rotation.handlers())

    def run_once(self) -> int:
        """Deliver every row that is due now; return how many were attempted."""
        with self.db.session() as db:
            due = outbox.claim_due(db, limit=100, busy=self.pacer.busy(),
                                   per_channel=self.pacer.burst)
            # Rows beyond a channel's free send slots go back as they were, for a later
            # pass: waiting for Slack's pace is not a failed attempt.
            held = [message.id for message in due
                    if message.action in outbox.PACED and not self.pacer.take(message.channel_id)]
            if held:
                outbox.release(db, held)
                db.commit()
        now = [message for message in due if message.id not in held]
        for message in now:
            self._deliver(message)
        return len(now)

    def seconds_until_due(self) -> float | None:
        """Until the next row falls due, or a busy channel's rows may go again."""
        with self.db.session() as db:
            when = outbox.next_due(db, busy=self.pacer.busy())
        free = self.pacer.next_free()
        waits = [] if free is None else [free]
        if when is not None:
            waits.append((when - utcnow()).total_seconds())
        return max(0.0, min(waits)) if waits else None

    def _deliver(self, message: OutboxMessage) -> None:
        handler = self.handlers.get(message.action)
        try:
            if handler is None:
                raise Permanent(f"unknown action {message.action}")
            try:
                client = self.client_for(message.team_id)
            except LookupError as missing:  # the workspace uninstalled us
                raise Permanent(str(missing)) from missing
            result_ts = _call(lambda: handler(client, message))
        except Retry as retry:
            with self.db.session() as db:
                row = db.get(OutboxMessage, message.id)
                if row is not None:
                    outbox.mark_retry(row, retry.error, base=self.retry_base,
                                      retry_after=retry.retry_after, counted=retry.counted)
                    if row.status == OutboxStatus.FAILED:
                        log.error("outbox %s (%s) gave up after %s attempts: %s", message.id,
                                  message.action, row.attempts, retry.error)
                        self._failed_for_good(db, row, retry.error, gave_up=True)
                    else:
                        log.warning("outbox %s (%s) will retry: %s", message.id,
                                    message.action, retry.error)
                    db.commit()
            return
        except Permanent as failure:
            log.error("outbox %s (%s) failed: %s", message.id, message.action, failure)
            with self.db.session() as db:
                row = db.get(OutboxMessage, message.id)
                if row is not None:
                    outbox.mark_failed(row, str(failure))
                    self._failed_for_good(db, row, str(failure))
                    db.commit()
            return
        with self.db.session() as db:
            row = db.get(OutboxMessage, message.id)
            if row is not None:
                outbox.mark_sent(row, result_ts)
                if message.action == OutboxAction.POST_ENTRY and result_ts:
                    self._record_entry_message(db, message, result_ts)
                self.rotation.record(db, message, result_ts)
                db.commit()

    def _failed_for_good(self, db, row: OutboxMessage, error: str, *,  # type: ignore[no-untyped-def]
                         gave_up: bool = False) -> None:
        """A row that will not be sent (refused, or `gave_up` after every retry): tell
        whoever asked, in the same transaction."""
        self._tell_author_it_failed(db, row, error, gave_up)
        if row.action == OutboxAction.POST_DIGEST:
            self._tell_digest_owner_it_failed(db, row, error, gave_up)
        if row.action == OutboxAction.POST_CARD and row.card_id is not None:
            # Never shown: close it, so its title is free to open again and entries
            # meant for it are posted in the channel instead.
            cards.abandon(db, row.team_id, row.card_id)

    # --- handlers: each makes one Slack call and returns the ts it produced, if any ---

    def _post_entry(self, client: WebClient, message: OutboxMessage) -> str | None:
        with self.db.session() as db:
            entry = entries.get_entry(db, message.team_id, message.entry_id or 0)
            card = cards.get_card(db, message.team_id, entry.card_id) \
                if entry is not None and entry.card_id is not None else None
            thread = card_thread(db, card) if card is not None else None
        if entry is None:
            return None  # deleted before it was posted: nothing to show
        if card is None or thread is None:
            return post_in_channel(client, message.channel_id, **entry_message(entry))
        # An entry on a card is a reply in the card's thread.
        return post_in_channel(client, message.channel_id, thread_ts=thread,
                               **entry_message(entry, card.title))

    def _related_lessons(self, client: WebClient, message: OutboxMessage) -> str | None:
        self.db.index_pending()  # committed here: the read-only session below rolls back
        with self.db.session() as db:
            entry = entries.get_entry(db, message.team_id, message.entry_id or 0)
            earlier = search.related(db, entry) if entry is not None else []
        if entry is not None and earlier:  # nothing related: nothing to say
            client.chat_postEphemeral(channel=message.channel_id, user=entry.author_id,
                                      text=related_lessons(earlier, entry.author_id).strip())
        return None

    def _post_digest(self, client: WebClient, message: OutboxMessage) -> str | None:
        # Rendered at send time, from the week the run claimed.
        with self.db.session() as db:
            run, items = digest.highlights(db, (message.payload or {}).get("run_id", 0))
        if run is None:
            return None
        return post_in_channel(client, message.channel_id, **digest_message(run, items))

    def _delete_message(self, client: WebClient, message: OutboxMessage) -> str | None:
        try:
            client.chat_delete(channel=message.channel_id, ts=message.target_ts)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
        return message.target_ts

    def _notify_user(self, client: WebClient, message: OutboxMessage) -> str | None:
        payload = message.payload or {}
        response = client.chat_postMessage(channel=message.user_id or message.channel_id,
                                           text=payload.get("text", ""))
        return response["ts"]

    def _confirm_entry(self, client: WebClient, message: OutboxMessage) -> str | None:
        self.db.index_pending()  # as in _related_lessons
        with self.db.session() as db:
            entry = entries.get_entry(db, message.team_id, message.entry_id or 0)
            # Rendered at send time: earlier entries that look related, for the author.
            earlier = search.related(db, entry) if entry is not None else []
        if entry is not None:
            client.chat_postEphemeral(channel=message.channel_id, user=entry.author_id,
                                      text=confirmation(entry)
                                      + related_lessons(earlier, entry.author_id))
        return None

    def _publish_home(self, client: WebClient, message: OutboxMessage) -> str | None:
        user_id = message.user_id or message.channel_id
        try:
            channels = _member_channels(client, user_id)
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500:
                raise
            # Say, an install from before the scope was added: a Home without the team's
            # channel learnings beats no Home at all.
            log.warning("users.conversations failed (%s): Home shows org learnings only",
                        error.response.get("error"))
            channels = set()
        with self.db.session() as db:
            view = home_view(home.home_for(db, message.team_id, user_id, channels))
        client.views_publish(user_id=user_id, view=view.to_dict())
        return None

    def _ephemeral(self, client: WebClient, message: OutboxMessage) -> str | None:
        client.chat_postEphemeral(channel=message.channel_id, user=message.user_id,
                                  text=(message.payload or {}).get("text", ""))
        return None

    # --- bookkeeping ---

    def _record_entry_message(self, db, message: OutboxMessage, ts: str) -> None:  # type: ignore[no-untyped-def]
        entry = entries.get_entry(db, message.team_id, message.entry_id or 0)
        if entry is not None:
            entry.message_channel_id = message.channel_id
            entry.message_ts = ts
        else:
            # Deleted while we were posting: take the fresh message down again.
            outbox.enqueue(db, team_id=message.team_id, action=OutboxAction.DELETE_MESSAGE,
                           channel_id=message.channel_id, target_ts=ts)

    def _tell_digest_owner_it_failed(self, db, row: OutboxMessage, error: str,  # type: ignore[no-untyped-def]
                                     gave_up: bool) -> None:
        owner = digest.owner(db, row.team_id)
        if owner is None:
            return
        advice = "Next week's is due as usual." if gave_up else (
            "Invite me with `/invite @Debrief` there, or move it with "
            "`/debrief digest #channel weekly DAY HH:MM`.")
        outbox.enqueue(
            db, team_id=row.team_id, action=OutboxAction.NOTIFY_USER, channel_id=owner,
            user_id=owner,
            payload={"text": (
                f"I could not post this week's organisation digest in <#{row.channel_id}> "
                f"({slack_failed(error, gave_up)}). {advice}"
            )},
        )

    def _tell_author_it_failed(self, db, row: OutboxMessage, error: str,  # type: ignore[no-untyped-def]
                               gave_up: bool) -> None:
        notice = failure_notice(row, error, gave_up=gave_up)
        if notice is not None and row.user_id:
            outbox.enqueue(db, team_id=row.team_id, action=OutboxAction.NOTIFY_USER,
                           channel_id=row.user_id, user_id=row.user_id,
                           payload={"text": notice})
            return
        if row.action != OutboxAction.POST_ENTRY or row.entry_id is None:
            return
        entry = entries.get_entry(db, row.team_id, row.entry_id)
        if entry is None:
            return
        outbox.enqueue(
            db, team_id=row.team_id, action=OutboxAction.NOTIFY_USER, channel_id=entry.author_id,
            user_id=entry.author_id,
            payload={"text": (
                f"I could not post your entry (ID {entry.id}) in <#{row.channel_id}> "
                f"({slack_failed(error, gave_up)}). It is saved: "
                + ("your Home tab and `/debrief search` have it." if gave_up else
                   "invite me with `/invite @Debrief` and log the next one there.")
            )},
        )


def _member_channels(client: WebClient, user_id: str) -> set[str]:
    """The channels a person is in (public, and private ones the bot is in too)."""
    channels: set[str] = set()
    cursor = None
    for _ in range(20):  # 20 pages of 1,000: more channels than anyone is in
        page = client.users_conversations(user=user_id, types="public_channel,private_channel",
                                          exclude_archived=True, limit=1000, cursor=cursor)
        channels.update(channel["id"] for channel in page.get("channels", []))
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return channels


def _call(send: Callable[[], str | None]) -> str | None:
    """Run one Slack call, sorting failures into retry-later and give-up."""
    try:
        return send()
    except NotYet as wait:
        # Counted: a card that is never posted must not keep its entries waiting forever.
        raise Retry(str(wait)) from wait
    except SlackApiError as error:
        status = error.response.status_code
        code = str(error.response.get("error") or f"http_{status}")
        if status == 429:
            retry_after = error.response.headers.get("Retry-After") or \
                error.response.headers.get("retry-after")
            # Not counted: Slack says when to come back, and a long rate limit is no
            # reason to give up. At least a second, so it never spins.
            wait = max(float(retry_after), 1.0) if retry_after else None
            raise Retry(code, wait, counted=False) from error
        if status >= 500 or code in TRANSIENT_ERRORS:
            raise Retry(code) from error
        raise Permanent(code) from error
    except (URLError, OSError, TimeoutError) as error:
        raise Retry(f"connection: {error}") from error


class OutboxWorker:
    """A daemon thread that drains the outbox when woken, and re-checks on a timer."""

    IDLE_POLL = 5.0
    # SQLite's write-ahead log is checkpointed here at most this often (bot/db).
    CHECKPOINT_EVERY = 1.0
    # After a wake-up, wait this long for more work: a burst of entries then costs one
    # pass over the outbox instead of one per entry, and acks keep the CPU meanwhile.
    GATHER = 0.05

    def __init__(self, delivery: Delivery):
        self.delivery = delivery
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._checkpointed = 0.0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()

    def wake(self, paced_channel: str | None = None) -> None:
        """New work is in the outbox. `paced_channel`: it is only paced posts in that
        channel; while the channel has no free send slot the timer covers it, and a
        flood of entries in one channel does not cost a pass over the outbox each."""
        if paced_channel is not None and self.delivery.pacer.is_busy(paced_channel):
            return
        self._wake.set()

    def _upkeep(self) -> None:
        """SQLite's work kept out of requests' commits (bot/db): indexing the entries just
        logged, and the write-ahead log's checkpoint."""
        db = self.delivery.db
        try:
            db.index_pending()  # a search would do it otherwise, before it looks
        except Exception:
            log.warning("indexing new entries failed", exc_info=True)
        if time.monotonic() - self._checkpointed < self.CHECKPOINT_EVERY:
            return
        self._checkpointed = time.monotonic()
        try:
            db.checkpoint()
        except Exception:  # the next one, or the commits' safety net, will do it
            log.warning("checkpoint failed", exc_info=True)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._stop.wait(self.GATHER)
            try:
                while self.delivery.run_once():
                    if self._stop.is_set():
                        return
                    self._upkeep()  # a long drain too
                wait = self.delivery.seconds_until_due()
            except Exception:
                log.exception("outbox worker pass failed")
                wait = self.IDLE_POLL
            self._upkeep()
            timeout = self.IDLE_POLL if wait is None else min(self.IDLE_POLL, wait)
            self._wake.wait(timeout=max(timeout, 0.01))

