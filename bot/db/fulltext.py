"""Full-text index of entries, in each database's own machinery.

SQLite: an FTS5 table `entries_fts` over `entries` (external content: the text is not
stored twice), kept in step by triggers. Indexing a text is most of the cost of storing an
entry, so it happens after the commit (since 0008): the insert trigger only notes the id
in `entries_fts_pending`, and `catch_up` indexes what is noted, from the outbox worker
between passes and from every search before it looks (so a search always finds what was
just logged). The delete and update triggers touch the index only for entries already in
it: FTS5 must be told exactly what it holds. So catch up before FTS5's 'integrity-check'
(it counts noted entries as missing), and never 'rebuild' without emptying the pending
table in the same transaction (catch-up would index those entries twice).

PostgreSQL: a generated `tsvector` column with a GIN index. Both index the workspace too
(FTS5: a `team_id` column; PostgreSQL: a lexeme `@T…` no text can produce), so a search
walks its own workspace's matches only; on PostgreSQL, who may see an entry is indexed the
same way (`org@T…`, `#channel`, `!author`), so the GIN index hands back (nearly) only the
matches the searcher may see.

Both are made by migrations with raw DDL written out in them (0007 builds the index, 0008
moves SQLite's indexing after the commit, 0009 re-creates the triggers after rebuilding
`entries`): a new shape of the index is a new migration, never an edit here. Alembic's
autogenerate cannot see that DDL in the models: `include_object` keeps it out of the
models/migrations comparison.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, cast, column, func, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from bot.db.models import Entry, Visibility
from bot.db.sqlite import READ_ONLY

FTS_TABLE = "entries_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_entries_search_vector"
# Stemming alike on both sides: Porter on SQLite, the `english` configuration on PostgreSQL.
PG_CONFIG = "english"

# 0008: entries waiting to be indexed (see the module's docstring).
PENDING_TABLE = f"{FTS_TABLE}_pending"
SQLITE_ANY_PENDING = f"SELECT 1 FROM {PENDING_TABLE} LIMIT 1"
# What catch_up runs, in one write transaction: nothing can be noted in between, so both
# statements see the same oldest noted ids (all of them, or the first :chunk).
_OLDEST = f"SELECT id FROM {PENDING_TABLE} ORDER BY id LIMIT :chunk"
SQLITE_CATCH_UP = [
    f"""INSERT INTO {FTS_TABLE}(rowid, text, tags, team_id)
        SELECT entries.id, entries.text, entries.tags, entries.team_id
        FROM ({_OLDEST}) AS noted JOIN entries ON entries.id = noted.id""",
    f"DELETE FROM {PENDING_TABLE} WHERE id IN ({_OLDEST})",
]


def anything_to_index(raw: Any) -> bool:
    """SQLite: whether entries wait for the index, on a DBAPI connection: a look that
    takes no lock."""
    cursor = raw.cursor()
    try:
        cursor.execute(SQLITE_ANY_PENDING)
        return cursor.fetchone() is not None
    finally:
        cursor.close()


def catch_up(connection: Any, chunk: int = -1) -> bool:
    """SQLite: index the entries noted since the last catch-up (the oldest `chunk` of
    them; all by default), in the caller's (write) transaction on a SQLAlchemy
    connection. Whether any were left to index afterwards. A no-op elsewhere, and on a
    reader's connection (it cannot write: whoever reads there caught up first)."""
    if connection.dialect.name != "sqlite" or connection.info.get(READ_ONLY):
        return False
    if connection.exec_driver_sql(SQLITE_ANY_PENDING).first() is None:
        return False
    for statement in SQLITE_CATCH_UP:
        connection.execute(text(statement), {"chunk": chunk})
    return chunk >= 0 and connection.exec_driver_sql(SQLITE_ANY_PENDING).first() is not None


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Alembic's filter: the full-text objects live outside the models on purpose."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False  # the FTS5 table and its shadow tables (_data, _idx, _config …)
    return not (type_ == "column" and name == PG_COLUMN or type_ == "index" and name == PG_INDEX)


# --- searching: matched and ranked by each database's own machinery ---

Scored = list[tuple[int, datetime, float]]


@dataclass(frozen=True)
class Query:
    """What to look for, and for whom: `words` carry no query syntax (word characters
    only); the ids are Slack's ([A-Za-z0-9_]), which the indexed lexemes rely on."""

    team_id: str
    user_id: str
    channels: list[str]  # where the searcher may read team-visible entries
    words: list[str]
    match_all: bool  # every word must match; else any may
    pool: int  # rank only the newest this many matches
    before_id: int | None = None  # only entries older than this one ("related" to it)


def ranked(db: Session, query: Query, where: list[ColumnElement[bool]]) -> Scored:
    """(entry id, created_at, score) of the newest `query.pool` entries that match and
    meet `where` (the visibility rule), with a score: higher is better."""
    if query.before_id is not None:
        where = [*where, Entry.id < query.before_id]
    if db.get_bind().dialect.name == "postgresql":
        return _postgres(db, query, where)
    return _sqlite(db, query, where)


def _sqlite(db: Session, query: Query, where: list[ColumnElement[bool]]) -> Scored:
    catch_up(db.connection())  # what was just logged is found too
    # Each word as an FTS5 string ("word"): never read as an operator or a column filter.
    match = (" " if query.match_all else " OR ").join(f'"{word}"' for word in query.words)
    match = f'team_id : "{query.team_id}" AND {{text tags}} : ({match})'
    fts = table(FTS_TABLE, column("rowid"))
    # The matched words, marked: FTS5's bm25() would count every row that matches each
    # phrase (the workspace phrase matches the whole workspace) on every query.
    marked: list[ColumnElement[str]] = [
        literal_column(f"highlight({FTS_TABLE}, {n}, char(1), char(2))") for n in (0, 1)]
    pool = db.execute(
        select(Entry.id, Entry.created_at, *marked)
        .select_from(fts.join(Entry, Entry.id == fts.c.rowid))
        .where(text(f"{FTS_TABLE} MATCH :match").bindparams(match=match), *where)
        .order_by(fts.c.rowid.desc())
        .limit(query.pool)
    ).all()
    return _bm25(pool)


_MARKED = re.compile("\x01(.*?)\x02", re.DOTALL)
_WORD = re.compile(r"\w+")
K1, B, TAG_WEIGHT = 1.2, 0.75, 2.0


def _bm25(pool: Sequence[Row[*tuple[Any, ...]]]) -> Scored:
    """BM25 over the pool, with the pool's own document frequencies."""
    docs = []
    for entry_id, created_at, body, tags in pool:
        hits: defaultdict[str, float] = defaultdict(float)  # a tag weighs 2.0 words
        for word in _MARKED.findall(body):
            hits[word.lower()] += 1
        for tag in _MARKED.findall(tags):
            hits[tag.lower()] += TAG_WEIGHT
        docs.append((entry_id, created_at, hits, max(1, len(_WORD.findall(body)))))
    if not docs:
        return []
    average = sum(length for *_, length in docs) / len(docs)
    df = Counter(word for _, _, hits, _ in docs for word in hits)
    idf = {w: math.log(1 + (len(docs) - n + 0.5) / (n + 0.5)) for w, n in df.items()}
    scored = []
    for entry_id, created_at, hits, length in docs:
        norm = K1 * (1 - B + B * length / average)
        score = sum(idf[w] * tf * (K1 + 1) / (tf + norm) for w, tf in hits.items())
        scored.append((entry_id, created_at, score))
    return scored


def _postgres(db: Session, query: Query, where: list[ColumnElement[bool]]) -> Scored:
    # websearch_to_tsquery never raises on odd input; the words carry no syntax anyway.
    config: ColumnElement[Any] = literal_column(f"'{PG_CONFIG}'::regconfig")
    tsquery = func.websearch_to_tsquery(
        config, (" " if query.match_all else " or ").join(query.words))
    # The visibility rule, loosely, as indexed lexemes: the GIN index then hands back
    # little the searcher may not see, and `where` decides exactly. Any-word queries
    # (related lessons, /debrief ask) too: with the workspace lexeme alone, at 1M entries
    # the planner walked the primary key back through every workspace's rows, most of
    # which the searcher may not see (bench/ask.py: 3-4x slower).
    lexemes = [f"{Visibility.ORG}@{query.team_id}", f"!{query.user_id}",
               *(f"#{c}" for c in query.channels)]
    access = cast(" | ".join(f"'{lexeme}'" for lexeme in lexemes), TSQUERY)
    vector: ColumnElement[Any] = literal_column(f"entries.{PG_COLUMN}")
    newest = (select(Entry.id, Entry.created_at, func.ts_rank(vector, tsquery))
              .where(vector.op("@@")(tsquery.op("&&")(access)), *where)
              .order_by(Entry.id.desc())
              .limit(query.pool))
    rows: Sequence[Any] | None = None
    if not query.match_all:
        rows = _in_window(db, query, newest)
    if rows is None:
        rows = db.execute(newest).all()
    return [(i, created, float(score)) for i, created, score in rows]


# Any-word queries match much of a workspace: the newest `pool` matches are looked for
# among its newest WINDOW entries first, found through the (team_id, id) index, so only
# their rows are read; when the window holds fewer, everywhere (few matches: cheap).
WINDOW = 5000


def _in_window(db: Session, query: Query, newest: Any) -> Sequence[Row[Any]] | None:
    """The newest matches when the window holds `query.pool` of them, else None."""
    older = [] if query.before_id is None else [Entry.id < query.before_id]
    floor = db.scalar(select(Entry.id).where(Entry.team_id == query.team_id, *older)
                      .order_by(Entry.id.desc()).offset(WINDOW).limit(1))
    if floor is None:
        return None  # a small workspace: its whole index is the window
    rows = db.execute(newest.where(Entry.id >= floor)).all()
    return rows if len(rows) >= query.pool else None
