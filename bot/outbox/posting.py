"""Posting a row's message once, even when a reply is lost.

Every post carries the row in its message metadata. A row whose earlier send may have
reached Slack without our learning its ts (the reply was lost; the sender stopped halfway;
Slack failed after storing it) is `unsure_since` then: before posting again, we look for
that message around then (conversations.history, or .replies in a thread, with
include_all_metadata) and take its ts instead. So the row records the one message Slack
shows, and deleting the entry or forgetting its author takes that message down.

A DM is posted to the person's user id, and looked for in the DM itself: its own id
comes from conversations.open (im:write), its history needs im:history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db.models import OutboxMessage
from bot.outbox.sender import joining

log = logging.getLogger(__name__)

EVENT_TYPE = "debrief_outbox"
# Slack's clock may be this far from ours: a message stored then has a ts this much earlier.
LOOK_BACK = timedelta(minutes=1)
PAGE, PAGES = 200, 10  # conversations.history is Tier 3: a look costs a page or two
# Answers that mean our post cannot be in that conversation, or that we may not look.
NOT_THERE = {"not_in_channel", "channel_not_found", "thread_not_found", "missing_scope"}
# conversations.open answers that mean there is no DM to look in (nor to post in).
NO_DM = NOT_THERE | {"user_not_found", "user_not_visible", "user_disabled",
                     "account_inactive", "cannot_dm_bot"}


@dataclass(frozen=True)
class Posted:
    """The message Slack holds for a row: its ts, and the conversation it is in (for a
    DM posted to a user id, the DM's own id, which chat.update and chat.delete need)."""

    ts: str
    channel: str


def post_in_channel(slack: WebClient, row: OutboxMessage, channel: str, **body: Any) -> str:
    """chat.postMessage for `row`, joining a public channel first if need be; the message
    ts. If the row may have been posted already, the ts of that post instead."""
    return post(slack, row, channel, **body).ts


def post(slack: WebClient, row: OutboxMessage, channel: str, **body: Any) -> Posted:
    """As `post_in_channel`, in a channel or a DM (`channel` a user id): the message and
    the conversation Slack put it in."""
    body["metadata"] = {"event_type": EVENT_TYPE, "event_payload": payload(row)}
    if row.unsure_since is not None:
        found = find_post(slack, row, channel, body.get("thread_ts"))
        if found is not None:
            log.info("outbox %s: found in Slack from an earlier try; not posted again", row.id)
            return found
    response = joining(slack, channel, lambda: slack.chat_postMessage(channel=channel, **body))
    return Posted(str(response["ts"]), str(response.get("channel") or channel))


def payload(row: OutboxMessage) -> dict[str, int]:
    """What a post's metadata says of its row: its id, and when it was queued (an id may
    come again on SQLite once the newest row is deleted); and for an entry's post, the
    entry, so that forget-me finds every copy Slack keeps (senders/entries.py)."""
    said = {"row": row.id, "queued": int(row.created_at.timestamp())}
    if row.entry_id is not None:
        said["entry_id"] = row.entry_id
    return said


def conversation_of(slack: WebClient, row: OutboxMessage, channel: str) -> str | None:
    """The conversation to read for `channel`: itself, or for a user id the DM with them
    (conversations.open, which finds the DM there is); None when there is none to read."""
    if not channel.startswith(("U", "W")):
        return channel
    try:
        opened = slack.conversations_open(users=channel)
    except SlackApiError as error:
        if error.response.get("error") not in NO_DM:
            raise  # the retry rules sort it: the row is tried (and looked for) again
        log.warning("outbox %s: cannot look for an earlier DM (%s); posting",
                    row.id, error.response.get("error"))
        return None
    return str((opened.get("channel") or {}).get("id") or "") or None


def find_post(slack: WebClient, row: OutboxMessage, channel: str,
              thread_ts: str | None) -> Posted | None:
    """The row's message if Slack has it, looking from a little before the row became
    unsure; None if it has not."""
    assert row.unsure_since is not None
    where = conversation_of(slack, row, channel)
    if where is None:
        return None
    channel = where
    wanted = payload(row)
    args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": PAGE,
                            "oldest": f"{(row.unsure_since - LOOK_BACK).timestamp():.6f}"}
    cursor = None
    for _ in range(PAGES):
        try:
            page = (slack.conversations_replies(ts=thread_ts, cursor=cursor, **args)
                    if thread_ts else slack.conversations_history(cursor=cursor, **args))
        except SlackApiError as error:
            if error.response.get("error") not in NOT_THERE:
                raise  # the retry rules sort it: the row is tried (and looked for) again
            log.warning("outbox %s: cannot look for an earlier post (%s); posting",
                        row.id, error.response.get("error"))
            return None
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == EVENT_TYPE and \
                    metadata.get("event_payload") == wanted:
                return Posted(str(message["ts"]), channel)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    log.warning("outbox %s: no earlier post in %s messages; posting", row.id, PAGE * PAGES)
    return None


def permalink(slack: WebClient, channel: str, ts: str) -> str | None:
    """Slack's link to a message just posted (chat.getPermalink: a reply's opens in its
    thread), or None when Slack will not say: the post worked, and retrying the row for a
    link would post it twice. Readers then build the link themselves."""
    try:
        link = slack.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as error:
        log.warning("chat.getPermalink failed (%s): the link is built instead",
                    error.response.get("error"))
        return None
    except (URLError, OSError) as error:
        log.warning("chat.getPermalink failed (%s): the link is built instead",
                    type(error).__name__)
        return None
    return str(link) if link else None
