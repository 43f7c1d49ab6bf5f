"""A person's history, as the App Home pages through it: everything they wrote (entries
of every visibility, and their reflections), newest first, a page at a time. Only ever
shown on their own Home, so nothing in it is hidden from them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from bot.db.models import Applause, Entry
from bot.services import reflections
from bot.services.home import EntryLine, ReflectionLine

PAGE_SIZE = 25  # with the buttons, well within Slack's 100 blocks a Home tab


@dataclass(frozen=True)
class Journal:
    user_id: str
    items: list[EntryLine | ReflectionLine]
    page: int  # 1 is the newest
    pages: int
    total: int


def journal(db: Session, team_id: str, user_id: str, page: int) -> Journal:
    """Page `page` of the person's history (clamped to the pages there are)."""
    entries = select(literal("entry").label("what"), Entry.id.label("id"),
                     Entry.created_at.label("at")).where(
        Entry.team_id == team_id, Entry.author_id == user_id)
    own = reflections.own_dated(team_id, user_id).subquery()
    reflected = select(literal("reflection").label("what"), own.c.id, own.c.at)
    both = union_all(entries, reflected).subquery()
    total = db.scalar(select(func.count()).select_from(both)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    keys = db.execute(select(both.c.what, both.c.id)
                      .order_by(both.c.at.desc(), both.c.what, both.c.id.desc())
                      .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    entry_ids = [key for what, key in keys if what == "entry"]
    lines = _entry_lines(db, team_id, user_id, entry_ids)
    mine = reflections.own_by_id(db, team_id, user_id,
                                 [key for what, key in keys if what == "reflection"])
    items: list[EntryLine | ReflectionLine] = []
    for what, key in keys:
        if what == "entry" and key in lines:
            items.append(lines[key])
        elif what == "reflection" and key in mine:
            r = mine[key]
            items.append(ReflectionLine(id=r.id, created_at=r.created_at,
                                        preview=next((a for a in r.answers if a.strip()), ""),
                                        shared=r.shared_entry_id is not None))
    return Journal(user_id=user_id, items=items, page=page, pages=pages, total=total)


def _entry_lines(db: Session, team_id: str, user_id: str,
                 ids: list[int]) -> dict[int, EntryLine]:
    if not ids:
        return {}
    applause = (select(func.count()).where(Applause.team_id == team_id,
                                           Applause.entry_id == Entry.id)
                .correlate(Entry).scalar_subquery())
    rows = db.execute(select(Entry, applause).where(
        Entry.team_id == team_id, Entry.author_id == user_id, Entry.id.in_(ids))).all()
    return {entry.id: EntryLine(
        id=entry.id, kind=entry.kind, text=entry.text, channel_id=entry.channel_id,
        visibility=entry.visibility, created_at=entry.created_at, author_id=user_id,
        applause=count, message_channel_id=entry.message_channel_id,
        message_ts=entry.message_ts, permalink=entry.message_permalink)
        for entry, count in rows}
