"""The scheduler: `python -m bot.clock` runs it alone (the Procfile's clock process).

Jobs claim their work in the database, so two clocks, or a clock beside `python -m bot`,
never do anything twice.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import CursorResult, delete
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.config import MissingCredentials, load_settings
from bot.db import Database
from bot.db.models import ApplauseRemoval, ProcessedEvent, utcnow
from bot.logs import configure_logging
from bot.runtime import Runtime
from bot.services import checkback, digest, drafts, health_posts, nudges, turns, workspaces
from bot.tokens import OAuthStates

log = logging.getLogger(__name__)

# Slack retries an event for about five minutes; a day of memory is plenty.
EVENT_MEMORY = timedelta(days=1)


@contextmanager
def unit_of_work(database: Database) -> Iterator[Session]:
    """One unit of work of a clock job: committed when the block ends without error.
    Nobody waits on a clock job's answer: its statements may take longer than a
    request's (`patient`)."""
    with database.session(patient=True) as db:
        yield db
        db.commit()


def tick(job: Callable[..., int]) -> Callable[..., int | None]:
    """A scheduled job that finds the database busy or away (the SQLite writer lock
    held too long, a statement timeout, a restart) did nothing: every job claims its work
    in the database, so the next tick does it. A warning, not a traceback."""
    @functools.wraps(job)
    def run(*args: object) -> int | None:
        try:
            return job(*args)
        except OperationalError as error:
            log.warning("%s: the database was busy or away (%s); the next tick does it",
                        job.__name__, type(error.orig or error).__name__)
            return None
    return run


def forget_old_events(runtime: Runtime) -> int:
    with unit_of_work(runtime.db) as db:
        cutoff = utcnow() - EVENT_MEMORY
        # Session.execute() types every result as Result; a DELETE's is a CursorResult.
        result = cast(CursorResult[Any], db.execute(
            delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff)))
        # Un-reacts are remembered only as long as a late copy of the reaction may come.
        removals = cast(CursorResult[Any], db.execute(
            delete(ApplauseRemoval).where(ApplauseRemoval.received_at < cutoff)))
        # `/debrief TEXT` kept for a day: whoever meant to log it has picked a kind by then.
        old_drafts = drafts.forget_old(db)
    return max(result.rowcount or 0, 0) + max(removals.rowcount or 0, 0) + old_drafts


# On SIGTERM, how long the outbox's send in flight may take to finish (all within 10 s).
STOP_SECONDS = 7.0

# How often the rotation looks for due reminders: a reminder goes out at most this late.
ROTATION_TICK_SECONDS = 30


def remind_due(database: Database, now: datetime | None = None) -> int:
    """Claim every meeting whose reminder is due and queue the reminders; how many."""
    now = now or utcnow()
    with database.session(patient=True) as db:
        due = turns.due(db, now)
    claimed = 0
    for rotation_id in due:
        # Each meeting's claim on its own: one that fails never holds up another.
        with unit_of_work(database) as db:
            claimed += turns.remind(db, rotation_id, now)
    return claimed


def send_rotation_reminders(runtime: Runtime, scheduler: BaseScheduler | None = None) -> int:
    """Claim the due meetings and queue their reminders; the outbox sends them.

    When the next reminder falls due before the next tick, a one-off run is set for that
    moment, so reminders leave on time, not up to a tick late."""
    claimed = remind_due(runtime.db, utcnow())
    if claimed:
        runtime.worker.wake()
    if scheduler is not None:
        with runtime.db.session(patient=True) as db:
            soon = turns.next_due(db)
        if soon is not None and soon < utcnow() + timedelta(seconds=ROTATION_TICK_SECONDS):
            # Not in the past: a meeting another clock holds must not make us spin.
            run_date = max(soon, utcnow() + timedelta(seconds=0.5))
            scheduler.add_job(tick(send_rotation_reminders), "date", run_date=run_date,
                              args=[runtime, scheduler], id="rotation_reminders_soon",
                              replace_existing=True, misfire_grace_time=None)
    return claimed


def claim_due_digests(database: Database, now: datetime) -> int:
    """Claim this week's run of every due digest and queue its post; how many this
    caller won."""
    with database.session(patient=True) as db:
        due = digest.due(db, now)
    won = 0
    for digest_id, scheduled in due:
        # Each claim on its own: one digest failing to claim never holds up another.
        with unit_of_work(database) as db:
            won += digest.claim(db, digest_id, scheduled, now)
    return won


def post_due_digests(runtime: Runtime) -> int:
    """Claim and queue the weekly digests that are due; the outbox posts them."""
    won = claim_due_digests(runtime.db, utcnow())
    if won:
        runtime.worker.wake()
    return won


def erase_uninstalled(runtime: Runtime, now: datetime | None = None) -> int:
    """Erase the data of every workspace whose retention after an uninstall is over; how
    many this caller erased. Each is claimed in the database (services/workspaces.py):
    with several clocks, one erases it, once."""
    now = now or utcnow()
    with runtime.db.session(patient=True) as db:
        due = workspaces.due_for_erasure(db, now)
    erased = 0
    for team_id in due:
        with unit_of_work(runtime.db) as db:  # one workspace at a time, all or nothing
            if workspaces.erase(db, team_id, now):
                log.info("erased the data of workspace %s (uninstalled)", team_id)
                erased += 1
    if runtime.clients.store is not None:
        OAuthStates(runtime.db.engine).forget_expired()  # "Add to Slack" links not followed
    return erased


# Nudges are not urgent: a minute late is on time.
NUDGE_TICK_SECONDS = 60


def nudge_due(database: Database, now: datetime) -> int:
    """Claim the collaborators whose nudge is due and queue their DMs (services/nudges.py);
    how many DMs this caller queued. Most ticks find nothing due in one index lookup and
    write nothing."""
    with database.session(patient=True) as db:
        if not nudges.any_due(db, now):
            return 0
    sent = 0
    while True:
        # Each batch is one claim, in its own unit of work: a second clock skips what
        # this one holds, and a batch that fails claims nothing.
        with unit_of_work(database) as db:
            claimed, nudged = nudges.send_due(db, now)
        sent += nudged
        if claimed < nudges.CLAIM_BATCH:
            return sent


def send_card_nudges(runtime: Runtime) -> int:
    """Queue the nudges that are due; the outbox sends them."""
    sent = nudge_due(runtime.db, utcnow())
    if sent:
        runtime.worker.wake()
    return sent


# How often check-backs are looked for: an ask goes out at most this late.
CHECKBACK_TICK_SECONDS = 60


def check_back_due(database: Database, now: datetime | None = None) -> int:
    """Claim the due check-backs and queue their DMs; how many DMs. One indexed lookup;
    the claims and their DMs commit together, batch by batch (checkback.claim)."""
    now = now or utcnow()
    asked = 0
    while True:
        with database.session(patient=True) as db:
            due = checkback.due(db, now)
        if not due:
            return asked
        with unit_of_work(database) as db:
            asked += checkback.claim(db, due, now)
        if len(due) < checkback.TICK_BATCH:
            return asked


def ask_check_backs(runtime: Runtime) -> int:
    asked = check_back_due(runtime.db)
    if asked:
        runtime.worker.wake()
    return asked


def claim_due_health_posts(database: Database, now: datetime) -> int:
    """Claim this week's picture of every channel that opted in and is due; how many."""
    with database.session(patient=True) as db:
        due = health_posts.due(db, now)
    won = 0
    for post_id, scheduled in due:
        with unit_of_work(database) as db:  # each claim on its own
            won += health_posts.claim(db, post_id, scheduled, now)
    return won


def post_due_health(runtime: Runtime) -> int:
    won = claim_due_health_posts(runtime.db, utcnow())
    if won:
        runtime.worker.wake()
    return won


def build_scheduler(runtime: Runtime, *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = BlockingScheduler(timezone="UTC") if blocking \
        else BackgroundScheduler(timezone="UTC")
    scheduler.add_job(tick(forget_old_events), "interval", hours=1, args=[runtime],
                      id="forget_old_events", coalesce=True, max_instances=1)
    # Times live in the database (UTC), not in APScheduler: the job only asks what is due,
    # so a reminder missed while down goes out on start (first run now), if still in time.
    scheduler.add_job(tick(send_rotation_reminders), "interval", seconds=ROTATION_TICK_SECONDS,
                      args=[runtime, scheduler], id="rotation_reminders", coalesce=True,
                      max_instances=1, next_run_time=utcnow())
    # Each week is claimed in the database: two clocks never post a digest twice.
    scheduler.add_job(tick(post_due_digests), "interval", seconds=30, args=[runtime],
                      id="post_due_digests", coalesce=True, max_instances=1)
    # Uninstalled workspaces whose retention is over: at start, then hourly.
    scheduler.add_job(tick(erase_uninstalled), "interval", hours=1, args=[runtime],
                      id="erase_uninstalled", coalesce=True, max_instances=1,
                      next_run_time=utcnow())
    # Each person's nudge is claimed in the database: two clocks never nudge twice.
    scheduler.add_job(tick(send_card_nudges), "interval", seconds=NUDGE_TICK_SECONDS,
                      args=[runtime], id="card_nudges", coalesce=True, max_instances=1)
    # Check-backs and weekly pictures: claimed in the database, so once across clocks.
    scheduler.add_job(tick(ask_check_backs), "interval", seconds=CHECKBACK_TICK_SECONDS,
                      args=[runtime], id="ask_check_backs", coalesce=True, max_instances=1,
                      next_run_time=utcnow())
    scheduler.add_job(tick(post_due_health), "interval", seconds=30, args=[runtime],
                      id="post_due_health", coalesce=True, max_instances=1)
    return scheduler


def main() -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        settings.require_credentials(serving=False)
    except MissingCredentials as error:
        print(error, file=sys.stderr)
        return 2
    runtime = Runtime.create(settings)
    runtime.worker.start()  # retries of the outbox go on even with no web process up
    scheduler = build_scheduler(runtime, blocking=True)

    def stop(signum: int, frame: object) -> None:
        # SIGTERM (Heroku, Docker): claim nothing more; start() returns, and the outbox
        # is handed back below.
        if scheduler.running:
            log.info("clock stopping: no new work")
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("clock started")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runtime.close(STOP_SECONDS)
    log.info("clock stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
