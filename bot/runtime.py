"""What one process of the bot holds: settings, database, Slack clients, outbox worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from apscheduler.schedulers.base import BaseScheduler
from slack_sdk import WebClient

from bot.app import installation_store
from bot.config import Settings
from bot.db import Database
from bot.metrics import MeteredWebClient
from bot.outbox.delivery import Delivery
from bot.outbox.worker import OutboxWorker

log = logging.getLogger(__name__)


class SlackClients:
    """The WebClient for a workspace: the one bot token, or the installed one (OAuth)."""

    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        # Metered: every Web API call is counted by method and result (bot/metrics.py).
        self.default = MeteredWebClient(token=settings.bot_token,
                                        base_url=settings.slack_api_url, timeout=10)
        self._store = installation_store(settings, db) if settings.oauth else None

    def for_team(self, team_id: str) -> WebClient:
        if self._store is None:
            return self.default
        bot = self._store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            raise LookupError(f"no installation for workspace {team_id}")
        return MeteredWebClient(token=bot.bot_token, base_url=self.settings.slack_api_url,
                                timeout=10)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clients: SlackClients
    worker: OutboxWorker = field(init=False)
    # The scheduler, in a process that runs one beside serving (`python -m bot`).
    scheduler: BaseScheduler | None = None

    def __post_init__(self) -> None:
        delivery = Delivery(self.db, self.clients.for_team, self.settings.outbox_retry_base)
        self.worker = OutboxWorker(delivery)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url)
        return cls(settings, db, SlackClients(settings, db))

    def stopping(self) -> None:
        """Take no new work (a signal came): the scheduler claims nothing more and the
        outbox worker sends nothing after the row in flight. Safe in a signal handler;
        `close` then waits for the row in flight."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.worker.stopping()

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking work and hand back what is held: the scheduler claims nothing
        more, the outbox worker finishes its send in flight (waiting up to `timeout`
        seconds) and releases the rows it claimed but did not send."""
        self.stopping()
        self.worker.stop(timeout)
        self.db.dispose()
