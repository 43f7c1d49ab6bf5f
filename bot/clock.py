"""The scheduler: `python -m bot.clock` runs it alone (the Procfile's clock process).

Jobs claim their work in the database, so two clocks, or a clock beside `python -m bot`,
never do anything twice.
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import delete

from bot.config import MissingCredentials, load_settings
from bot.db.models import ApplauseRemoval, ProcessedEvent, utcnow
from bot.logs import configure_logging
from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Slack retries an event for about five minutes; a day of memory is plenty.
EVENT_MEMORY = timedelta(days=1)


def forget_old_events(runtime: Runtime) -> int:
    with runtime.db.session() as db:
        cutoff = utcnow() - EVENT_MEMORY
        result = db.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
        # Un-reacts are remembered only as long as a late copy of the reaction may come.
        removals = db.execute(delete(ApplauseRemoval).where(ApplauseRemoval.received_at < cutoff))
        db.commit()
        return max(result.rowcount or 0, 0) + max(removals.rowcount or 0, 0)


def build_scheduler(runtime: Runtime, *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = BlockingScheduler(timezone="UTC") if blocking \
        else BackgroundScheduler(timezone="UTC")
    scheduler.add_job(forget_old_events, "interval", hours=1, args=[runtime],
                      id="forget_old_events", coalesce=True, max_instances=1)
    return scheduler


def main() -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    try:
        settings.require_credentials(serving=False)
    except MissingCredentials as error:
        print(error, file=sys.stderr)
        return 2
    runtime = Runtime.create(settings)
    runtime.worker.start()  # retries of the outbox go on even with no web process up
    scheduler = build_scheduler(runtime, blocking=True)
    log.info("clock started")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
