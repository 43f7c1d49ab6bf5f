"""Sharing a row's file once, even when a reply is lost.

A file's name carries its outbox row (`marked`: "…-r42.csv"). A row whose earlier upload
may have reached Slack without our learning the file's id (the reply of
files.completeUploadExternal was lost, say) is `unsure_since` then: before uploading
again, we look for the file the bot shared in that channel since the row was queued
(files.list, filtered by channel and by the bot's own user: files:read) and take its id
instead. Forget-me looks the same way, so every copy of an export is deleted
(senders/export.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db.models import OutboxMessage
from bot.outbox.posting import LOOK_BACK, NOT_THERE
from bot.outbox.sender import joining

log = logging.getLogger(__name__)

PAGE, PAGES = 100, 10  # files.list is Tier 3: a look costs a page or two


def marked(name: str, row_id: int) -> str:
    """`name` carrying the row: "debrief-C1-2026-03-20.csv" -> "debrief-C1-2026-03-20-r42.csv"."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}-r{row_id}.{ext}" if dot else f"{name}-r{row_id}"


def is_marked(name: str, row_id: int) -> bool:
    """Whether a file's name is one `marked` made for the row."""
    return re.search(rf"-r{row_id}(\.[^.\-]*)?$", name) is not None


def upload(slack: WebClient, row: OutboxMessage, channel: str, filename: str,
           share: Callable[[str], Any]) -> str | None:
    """The id of the row's file in `channel`: shared by `share(name)` (a files_upload_v2
    call with the name given), or, if the row may have been shared already, that file."""
    if row.unsure_since is not None:
        found = find_files(slack, row.id, channel, row.created_at)
        if found:
            log.info("outbox %s: file found in Slack from an earlier try; not shared again",
                     row.id)
            return found[0]
    name = marked(filename, row.id)
    file = joining(slack, channel, lambda: share(name)["file"])
    return str(file.get("id") or "")[:32] or None


def find_files(slack: WebClient, row_id: int, channel: str, queued: datetime) -> list[str]:
    """The ids of the files the bot shared in `channel` for the row, from a little before
    it was `queued`; none when Slack will not let us look."""
    try:
        bot_user = slack.auth_test().get("user_id")
        args: dict[str, Any] = {"channel": channel, "user": bot_user, "count": PAGE,
                                "ts_from": str(int((queued - LOOK_BACK).timestamp()))}
        found: list[str] = []
        for page in range(1, PAGES + 1):
            answer = slack.files_list(page=page, **args)
            found += [str(file["id"]) for file in answer.get("files") or []
                      if is_marked(str(file.get("name") or ""), row_id)
                      and file.get("user") in (None, bot_user)]
            if page >= int((answer.get("paging") or {}).get("pages") or 1):
                return found
    except SlackApiError as error:
        if error.response.get("error") not in NOT_THERE:
            raise  # the retry rules sort it: the row is tried (and looked for) again
        log.warning("outbox %s: cannot look for an earlier file (%s)",
                    row_id, error.response.get("error"))
        return []
    log.warning("outbox %s: looked through %s files only", row_id, PAGE * PAGES)
    return found
