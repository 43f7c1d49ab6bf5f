"""Exporting a channel's entries: what may leave the channel, and in which shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.db.models import Applause, Card, Entry, Visibility
from bot.ids import OutboxAction
from bot.services import nearmiss, outbox
from bot.services.errors import UserError

FORMAT_ALIASES = {"csv": "csv", "md": "md", "markdown": "md"}


@dataclass(frozen=True)
class ExportRow:
    """One exported entry; `author_id` is None for anonymous entries."""

    entry_id: int
    created_at: datetime
    kind: str
    visibility: str
    author_id: str | None
    text: str
    tags: str
    card: str | None
    applause: int


def _exportable(team_id: str, channel_id: str,
                team_only: bool = False) -> tuple[ColumnElement[bool], ...]:
    # What the channel already sees: team-visible entries, and org-visible ones posted
    # in it (not for a guest, who never sees organisation-wide entries: `team_only`).
    # Private entries never leave their author.
    shown = [Visibility.TEAM] if team_only else [Visibility.TEAM, Visibility.ORG]
    return (Entry.team_id == team_id, Entry.channel_id == channel_id,
            Entry.visibility.in_(shown))


def parse_format(args: str) -> str:
    """`csv` (the default), `md` or `markdown`; anything else is a UserError."""
    word = args.strip().lower()
    if not word:
        return "csv"
    if word not in FORMAT_ALIASES:
        guess = nearmiss.closest(word, FORMAT_ALIASES)
        hint = f" Did you mean `/debrief export {guess}`?" if guess else ""
        raise UserError("Export as `csv` or `md`: `/debrief export md`." + hint)
    return FORMAT_ALIASES[word]


def request_export(db: Session, *, team_id: str, channel_id: str, user_id: str,
                   fmt: str, team_only: bool = False) -> int:
    """Queue the upload of the channel's entries as a file. Returns how many
    entries it holds now (the file is drawn when it is sent, with any logged since).
    `team_only`: without org-visible entries (asked by a guest, or Slack did not say)."""
    count = db.scalar(select(func.count()).select_from(Entry)
                      .where(*_exportable(team_id, channel_id, team_only))) or 0
    if count == 0:
        raise UserError("There is nothing to export yet: this channel has no team-visible "
                        "entries.")
    outbox.enqueue(db, team_id=team_id, action=OutboxAction.UPLOAD_EXPORT, channel_id=channel_id,
                   user_id=user_id, payload={"format": fmt, "team_only": team_only})
    return count


def channel_entries(db: Session, team_id: str, channel_id: str,
                    team_only: bool = False) -> list[ExportRow]:
    """The channel's exportable entries, oldest first, with their card and applause."""
    applause = (select(Applause.entry_id, func.count().label("n"))
                .where(Applause.team_id == team_id).group_by(Applause.entry_id).subquery())
    rows = db.execute(
        select(Entry, Card.title, func.coalesce(applause.c.n, 0))
        .outerjoin(Card, (Card.id == Entry.card_id) & (Card.team_id == Entry.team_id))
        .outerjoin(applause, applause.c.entry_id == Entry.id)
        .where(*_exportable(team_id, channel_id, team_only))
        .order_by(Entry.created_at, Entry.id)
    ).all()
    return [ExportRow(entry_id=entry.id, created_at=entry.created_at, kind=entry.kind,
                      visibility=entry.visibility,
                      author_id=None if entry.anonymous else entry.author_id,
                      text=entry.text, tags=entry.tags, card=title, applause=int(count))
            for entry, title, count in rows]
