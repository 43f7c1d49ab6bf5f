"""The organisation digest in Slack: the week's post, drawn from the run the clock
claimed when it is sent; its owner is told when it cannot be posted."""

from __future__ import annotations

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.posting import post_in_channel
from bot.outbox.sender import Sender, Sent, Work, redraw, tell
from bot.services import digest
from bot.views.digest import digest_message
from bot.views.outbox import digest_not_posted


class DigestSender(Sender):
    actions = frozenset({OutboxAction.POST_DIGEST, OutboxAction.REDRAW_DIGEST})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        with work.read() as db:
            run, items = digest.highlights(db, (row.payload or {}).get("run_id", 0))
            body = digest_message(run, items) if run is not None else None
        if body is None:
            return Sent()
        if row.action == OutboxAction.REDRAW_DIGEST:  # posted already (forget-me)
            return Sent(redraw(slack, row, body))
        return Sent(post_in_channel(slack, row, row.channel_id, **body))

    def failed(self, db: Session, row: OutboxMessage, error: str, *, gave_up: bool) -> None:
        if row.action == OutboxAction.REDRAW_DIGEST:
            return
        owner = digest.owner(db, row.team_id)
        if owner is not None:
            tell(db, row, owner, digest_not_posted(row.channel_id, error, gave_up=gave_up))
