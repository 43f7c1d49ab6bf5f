"""Two clock processes at once, as threads with a database engine each: what each job run
returned, for tests that something is done exactly once across clocks."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bot.db import Database


def two_clocks(database_url: str, job: Callable[[Database], int]) -> list[int]:
    """Run `job` in two clocks released at the same moment; each run's result."""
    clocks = [Database(database_url), Database(database_url)]
    start = threading.Barrier(2)
    results: list[int] = []

    def clock(database: Database) -> None:
        start.wait()
        results.append(job(database))

    threads = [threading.Thread(target=clock, args=(c,)) for c in clocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for database in clocks:
        database.dispose()
    return results
