"""A channel's export in Slack: the file, drawn from the database when it is sent and
shared in the channel with files_upload_v2, once (bot/outbox/uploading.py); and every
copy of it deleted when it held someone forgotten."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.sender import Sender, Sent, Work, tell
from bot.outbox.uploading import find_files, upload
from bot.services import export
from bot.views.export import file_name, file_title, render, shared_note
from bot.views.outbox import export_not_shared

log = logging.getLogger(__name__)


class ExportSender(Sender):
    actions = frozenset({OutboxAction.UPLOAD_EXPORT, OutboxAction.DELETE_FILE})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        if row.action == OutboxAction.DELETE_FILE:  # an export that held someone forgotten
            return self._delete(slack, row)
        fmt = (row.payload or {}).get("format", "csv")
        with work.read() as db:
            rows = export.channel_entries(db, row.team_id, row.channel_id,
                                          bool((row.payload or {}).get("team_only")))
        filename = file_name(row.channel_id, fmt, datetime.now(UTC).date())
        names = display_names(slack, {entry.author_id for entry in rows if entry.author_id})
        content = render(fmt, rows, row.channel_id, names).encode()
        return Sent(upload(slack, row, row.channel_id, filename, lambda name: (
            slack.files_upload_v2(
                channel=row.channel_id, filename=name, content=content,
                title=file_title(len(rows)),
                initial_comment=shared_note(row.user_id, len(rows))))))

    @staticmethod
    def _delete(slack: WebClient, row: OutboxMessage) -> Sent:
        """The export's file, and any other copy of it Slack holds (shared by a try whose
        reply was lost): the export's row and when it was queued are in the payload."""
        payload: dict[str, Any] = row.payload or {}
        files = [row.target_ts] if row.target_ts else []
        if payload.get("export_row"):
            queued = datetime.fromtimestamp(int(payload.get("queued") or 0), UTC)
            files += [found for found in find_files(slack, int(payload["export_row"]),
                                                    row.channel_id, queued)
                      if found not in files]
        for file in files:
            try:
                slack.files_delete(file=file)
            except SlackApiError as error:
                if error.response.get("error") not in ("file_not_found", "file_deleted"):
                    raise
        return Sent(row.target_ts)

    def failed(self, db: Session, row: OutboxMessage, error: str, *, gave_up: bool) -> None:
        if row.user_id and row.action == OutboxAction.UPLOAD_EXPORT:
            tell(db, row, row.user_id, export_not_shared(row.channel_id, error, gave_up=gave_up))


def display_names(slack: WebClient, user_ids: set[str]) -> dict[str, str]:
    """Display names for the file (users.info, Tier 4); an unknown one stays blank."""
    names = {}
    for user_id in sorted(user_ids):
        try:
            user = slack.users_info(user=user_id)["user"]
        except SlackApiError as error:
            log.info("export: no name for an author (%s)", error.response.get("error"))
            continue
        profile = user.get("profile") or {}
        names[user_id] = (profile.get("display_name") or profile.get("real_name")
                          or user.get("real_name") or user.get("name") or "")
    return names
