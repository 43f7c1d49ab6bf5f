"""Looking back before (or while) doing the work: what was learned that looks like this,
who learned it, where it came up, and the documents it points to.

- Lessons: the earlier entries that look related, among what the person may read
  (bot/services/search.py: the same matching and the same visibility rule as search).
- People: up to three authors of related entries the person may read that name their
  author to everyone: not anonymous, not private (team- or org-visible), and not the
  person themselves. Each comes with the channels where they learned it.
- Channels: other channels (other teams) where it came up, from those same entries.
- Docs: the links (http/https) in the related entries, as stored in their text; the
  entries they come from are ones the person may read.

`for_entry` runs after an opportunity or a lesson is logged (bot/outbox/senders/
entries.py), `ask` for `/debrief ask TEXT` (nothing is stored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.db.models import Entry, Kind, Visibility
from bot.services import search
from bot.services.errors import UserError
from bot.services.search import Viewer

LESSONS = 3
PEOPLE = 3
CHANNELS = 3
DOCS = 5
# How far down the ranking people, channels and docs are looked for.
WIDER = 30
MAX_URL = 1000
# A link as stored in an entry's text. Stops at what cannot be part of one in chat
# (spaces, <>, quotes, |) and drops the punctuation that usually ends a sentence.
_URL = re.compile(r"https?://[^\s<>\"'`|]+", re.IGNORECASE)
_TRAILING = ".,;:!?*_~"


@dataclass(frozen=True)
class Person:
    user_id: str
    channels: list[str]  # where they learned it


@dataclass(frozen=True)
class Doc:
    url: str
    entry_id: int  # the related entry it was linked from


@dataclass(frozen=True)
class LookBack:
    lessons: list[Entry] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # other channels where it came up
    docs: list[Doc] = field(default_factory=list)  # links beyond those in `lessons`

    @property
    def empty(self) -> bool:
        return not (self.lessons or self.people or self.channels or self.docs)


def links(text: str) -> list[str]:
    """The http(s) links in a text, in order, each once."""
    found: dict[str, None] = {}
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1].rstrip(_TRAILING)  # "(see https://x.io/a)"
        if len(url) <= MAX_URL and "://" in url and url.split("://", 1)[1]:
            found.setdefault(url, None)
    return list(found)


def for_entry(db: Session, entry: Entry, *, channels: frozenset[str] | None = None,
              guest: bool | None = False) -> LookBack:
    """"Have we learned this before?" for a new opportunity or lesson, as its author may
    read (`channels` and `guest`: Slack's account of them, as for `Viewer`); nothing for
    a win."""
    if entry.kind not in (Kind.OPPORTUNITY, Kind.LESSON):
        return LookBack()
    words = search.related_words(entry.text, entry.tag_names)
    viewer = Viewer(entry.team_id, entry.author_id, entry.channel_id, channels, guest)
    return _look(db, viewer, words, before_id=entry.id)


def ask_words(text: str) -> list[str]:
    """The words `/debrief ask` looks for; UserError when there are none."""
    words = search.related_words(text, [w[1:] for w in text.split() if w.startswith("#")])
    if not words:
        raise UserError("Tell me what you are about to work on, e.g. "
                        "`/debrief ask migrating the billing database`.")
    return words


def ask(db: Session, viewer: Viewer, text: str) -> LookBack:
    """`/debrief ask TEXT`: the look back for work about to start, as `viewer` may read."""
    return _look(db, viewer, ask_words(text))


def _look(db: Session, viewer: Viewer, words: list[str],
          before_id: int | None = None) -> LookBack:
    if not words:
        return LookBack()
    ids = search.ranked_ids(db, viewer, words, match_all=False, before_id=before_id)
    related = search.entries_by_id(db, ids[:WIDER])
    lessons = related[:LESSONS]
    shown_links = {url for entry in lessons for url in links(entry.text)}
    docs: dict[str, Doc] = {}
    for entry in related:
        for url in links(entry.text):
            if url not in shown_links and len(docs) < DOCS:
                docs.setdefault(url, Doc(url, entry.id))
    return LookBack(lessons=lessons, people=_people(related, viewer),
                    channels=_channels(related, viewer), docs=list(docs.values()))


def names_its_author(entry: Entry) -> bool:
    """Whether everyone who may read the entry may also know who wrote it."""
    return not entry.anonymous and entry.visibility in (Visibility.TEAM, Visibility.ORG)


def _people(related: list[Entry], viewer: Viewer) -> list[Person]:
    where: dict[str, dict[str, None]] = {}
    for entry in related:
        if names_its_author(entry) and entry.author_id != viewer.user_id \
                and (entry.author_id in where or len(where) < PEOPLE):
            where.setdefault(entry.author_id, {}).setdefault(entry.channel_id, None)
    return [Person(user, list(channels)) for user, channels in where.items()]


def _channels(related: list[Entry], viewer: Viewer) -> list[str]:
    found: dict[str, None] = {}
    for entry in related:
        if entry.visibility != Visibility.PRIVATE and entry.channel_id != viewer.channel_id:
            found.setdefault(entry.channel_id, None)
    return list(found)[:CHANNELS]
