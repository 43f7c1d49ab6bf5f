"""The health picture in Slack: figures read from the database when it is sent, drawn as
a PNG (no transaction open while drawing or uploading), and shared with files_upload_v2
with the figures in words as its comment, once (bot/outbox/uploading.py)."""

from __future__ import annotations

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.sender import Sender, Sent, Work, tell
from bot.outbox.uploading import upload
from bot.services import health
from bot.services.health import SCOPE_WORKSPACE
from bot.views.health import alt_text, figures_text, file_name, not_shared, render_png, title


class HealthSender(Sender):
    actions = frozenset({OutboxAction.UPLOAD_HEALTH})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        workspace = (row.payload or {}).get("scope") == SCOPE_WORKSPACE
        with work.read() as db:
            figures = health.picture(db, row.team_id, None if workspace else row.channel_id)
        png = render_png(figures)
        return Sent(upload(slack, row, row.channel_id, file_name(figures), lambda name: (
            slack.files_upload_v2(
                channel=row.channel_id, filename=name, content=png, title=title(figures),
                alt_txt=alt_text(figures), initial_comment=figures_text(figures)))))

    def failed(self, db: Session, row: OutboxMessage, error: str, *, gave_up: bool) -> None:
        if row.user_id:
            tell(db, row, row.user_id, not_shared(row.channel_id, error, gave_up=gave_up))
