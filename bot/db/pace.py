"""The shared pace on PostgreSQL: several processes sending to Slack keep one pace per key
(a channel, or a workspace's method), with a GCRA kept in the `pace` table.

Taking a slot is one INSERT … ON CONFLICT DO UPDATE … RETURNING on the key's own row:
processes sending to the same channel queue on that row for a moment, and nothing else
does, so unrelated channels never wait for each other. Times are the database's clock
(seconds), so processes on hosts whose clocks disagree still keep one pace. The outbox
takes each slot in a transaction of its own, just before the call it is for.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# :now, when given, stands in for the database's clock (tests freeze it).
_NOW = "COALESCE(CAST(:now AS double precision), EXTRACT(EPOCH FROM clock_timestamp()))"

# GCRA: a slot is free when the key's theoretical arrival time (tat) is no further ahead
# of now than the tolerance (the burst); taking one moves tat one interval on.
_TAKE = text(f"""
WITH clock AS (SELECT {_NOW} AS now),
taken AS (
    INSERT INTO pace (key, tat) SELECT :key, clock.now + :interval FROM clock
    ON CONFLICT (key) DO UPDATE
        SET tat = GREATEST(pace.tat, excluded.tat - :interval) + :interval
        WHERE pace.tat - (excluded.tat - :interval) <= :tolerance
    RETURNING tat
)
SELECT (SELECT tat FROM taken) AS taken,
       (SELECT tat FROM pace WHERE key = :key) AS tat,
       (SELECT now FROM clock) AS now
""")

# Channel keys only (a method key has a "/"): their rows wait in the outbox, untouched.
_BUSY = text(f"""
SELECT key, tat - clock.now - :tolerance AS wait
FROM pace, (SELECT {_NOW} AS now) AS clock
WHERE tat - clock.now > :tolerance AND key NOT LIKE '%/%'
""")

_FORGET = text(f"DELETE FROM pace WHERE tat < {_NOW} - :idle")


@dataclass(frozen=True)
class Taken:
    """What taking a slot came to: `taken`, and if not, `wait` seconds until one is free."""

    taken: bool
    wait: float


def take(db: Session, key: str, *, interval: float, tolerance: float,
         now: float | None = None) -> Taken:
    """Take a slot for `key` in the caller's transaction, if one is free now. (A caller
    that takes several in one transaction must take them in key order: two such callers
    could otherwise deadlock.)"""
    row = db.execute(_TAKE, {"key": key, "interval": interval, "tolerance": tolerance,
                             "now": now}).one()
    if row.taken is not None:
        return Taken(True, 0.0)
    # Refused: the key's row is as another process left it.
    tat = row.tat if row.tat is not None else row.now
    return Taken(False, max(0.0, tat - row.now - tolerance))


def busy(db: Session, *, tolerance: float, now: float | None = None) -> dict[str, float]:
    """The channels without a free slot now, each with the seconds until it has one."""
    return {key: float(wait) for key, wait in
            db.execute(_BUSY, {"tolerance": tolerance, "now": now}).all()}


def forget_idle(db: Session, *, idle: float = 60.0, now: float | None = None) -> int:
    """Delete keys idle for `idle` seconds: a time in the past says no more than no row."""
    return db.execute(_FORGET, {"idle": idle, "now": now}).rowcount or 0  # type: ignore[attr-defined]
