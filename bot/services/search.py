"""Full-text search over entries, within what the caller may see.

Each database's own machinery does the matching and ranking (bot/db/fulltext.py: SQLite
FTS5 with BM25, PostgreSQL tsvector with ts_rank). Ranking looks at the newest `POOL`
matching entries of the workspace the caller may see, so a query costs about the same on
a young workspace and on a database with a million entries; within those, best match
first, newest first on ties. Every word must match (`search`); any word may (`related`).

Who may see what (PRODUCT.md §7) follows Slack, now (the `Viewer` carries Slack's answer,
bot/directory.py):
- their own entries, whatever the visibility;
- org-visible entries of the workspace, unless they are a guest;
- team-visible entries from the channels they are in now: someone removed from a private
  channel no longer finds its entries. When Slack did not say, only the channel they are
  searching from (Slack just saw them there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from bot.db import fulltext
from bot.db.models import Entry, Kind, Visibility
from bot.services.errors import UserError

POOL = 200
MAX_TERMS = 8
# Words that say nothing about a lesson; PostgreSQL drops them itself, FTS5 does not.
_STOPWORDS = """
a about after again all also am an and any are as at be because been before being but by
can could did do does doing done for from had has have having he her here hers him his how
i if in into is it its just me more most my no nor not now of off on once only or other our
ours out over own same she should so some such than that the their them then there these
they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours
"""
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"\w+")
_ID = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Viewer:
    """Who is looking, from which channel, and what Slack says they may read: the
    channels they are in (None: Slack did not say) and whether they are a guest (None:
    Slack did not say, so treated as one)."""

    team_id: str
    user_id: str
    channel_id: str
    channels: frozenset[str] | None = None
    guest: bool | None = False

    @property
    def sees_org(self) -> bool:
        """Guests never see organisation-wide entries (nor anyone Slack did not vouch for)."""
        return self.guest is False


def terms(query: str, limit: int = MAX_TERMS) -> list[str]:
    """The searchable words of a query, lower-cased, without stop words or duplicates.

    Only word characters survive, so no query syntax (quotes, NEAR, `-`, `*`…) reaches
    the database's parser."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        word = word.strip("_")
        if word and word not in STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)[:limit]


def readable_channels(viewer: Viewer) -> list[str]:
    """The channels whose team entries the viewer may read: where they are, now."""
    return sorted({viewer.channel_id, *(viewer.channels or ())})


def visible_to(viewer: Viewer, channels: list[str]) -> ColumnElement[bool]:
    """The rule of who may see an entry, as a WHERE clause."""
    readable = [Entry.author_id == viewer.user_id,
                and_(Entry.visibility == Visibility.TEAM, Entry.channel_id.in_(channels))]
    if viewer.sees_org:
        readable.append(Entry.visibility == Visibility.ORG)
    return and_(Entry.team_id == viewer.team_id, or_(*readable))


def search(db: Session, viewer: Viewer, query: str, limit: int = 10) -> list[Entry]:
    """The best matches for every word of `query` among what `viewer` may see."""
    words = terms(query)
    if not words:
        raise UserError("Search for some words, e.g. `/debrief search deploy rollback`.")
    return _run(db, viewer, words, match_all=True, limit=limit)


def related(db: Session, entry: Entry, limit: int = 3, *,
            channels: frozenset[str] | None = None, guest: bool | None = False) -> list[Entry]:
    """Up to `limit` earlier entries that look like `entry`, among what its author may see
    (`channels` and `guest`: Slack's account of them, as for `Viewer`).

    Any shared word counts; more and rarer shared words rank higher. Tags come first.
    Only opportunities and lessons ask "have we learned this before?"; wins get none."""
    if entry.kind not in (Kind.OPPORTUNITY, Kind.LESSON):
        return []
    words = related_words(entry.text, entry.tag_names)
    if not words:
        return []
    viewer = Viewer(entry.team_id, entry.author_id, entry.channel_id, channels, guest)
    return _run(db, viewer, words, match_all=False, limit=limit, before_id=entry.id)


def related_words(text: str, tags: list[str]) -> list[str]:
    """The words "have we learned this before?" looks for: tags first, then the longest
    words (they tend to carry the meaning), at least three letters long."""
    words = terms(f"{' '.join(tags)} {text}", limit=64)
    tagged = set(tags)
    words = sorted(words, key=lambda w: (w not in tagged, -len(w)))
    return [w for w in words if len(w) >= 3][:MAX_TERMS]


def ranked_ids(db: Session, viewer: Viewer, words: list[str], *, match_all: bool,
               before_id: int | None = None) -> list[int]:
    """Ids of the matches `viewer` may see, best first, newest first on ties (at most
    POOL of them)."""
    # Slack's ids are [A-Z0-9]: the indexed lexemes and FTS5 strings rely on it.
    if not (_ID.fullmatch(viewer.team_id) and _ID.fullmatch(viewer.user_id)):
        return []
    channels = [c for c in readable_channels(viewer) if _ID.fullmatch(c)]
    scored = fulltext.ranked(db, fulltext.Query(
        team_id=viewer.team_id, user_id=viewer.user_id, channels=channels, words=words,
        match_all=match_all, pool=POOL, before_id=before_id), [visible_to(viewer, channels)])
    return [i for i, _created, _score in sorted(
        scored, key=lambda row: (row[2], row[1], row[0]), reverse=True)]


def entries_by_id(db: Session, ids: list[int]) -> list[Entry]:
    """The entries of `ids`, in that order."""
    if not ids:
        return []
    found = {e.id: e for e in db.scalars(select(Entry).where(Entry.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _run(db: Session, viewer: Viewer, words: list[str], *, match_all: bool, limit: int,
         before_id: int | None = None) -> list[Entry]:
    ids = ranked_ids(db, viewer, words, match_all=match_all, before_id=before_id)
    return entries_by_id(db, ids[:limit])
