"""What one process of the bot holds: settings, database, Slack clients, outbox worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from apscheduler.schedulers.base import BaseScheduler
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.directory import Directory
from bot.identity import BotIdentity, Identity, InstalledBots
from bot.metrics import MeteredWebClient
from bot.outbox.delivery import Delivery
from bot.outbox.worker import OutboxWorker
from bot.spool import EventSpool
from bot.tokens import Installations

log = logging.getLogger(__name__)


class SlackClients:
    """Who the bot is in each workspace (bot/identity.py): the one bot token of
    single-workspace mode, or each workspace's installed token (OAuth)."""

    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        # Token-less unless single-workspace: Bolt gives each request a client with the
        # token its authorize found, and the outbox asks `for_team`.
        # Metered: every Web API call is counted by method and result (bot/metrics.py).
        self.default = MeteredWebClient(token=None if settings.oauth else settings.bot_token,
                                        base_url=settings.slack_api_url, timeout=10)
        self.identity: Identity
        if settings.oauth:
            self.store: Installations | None = Installations(settings, db.engine)
            self.identity = InstalledBots(
                self.store, db, client_id=settings.client_id or "",
                client_secret=settings.client_secret or "", api_url=settings.slack_api_url)
        else:
            self.store = None
            self.identity = BotIdentity(self.default, db)

    def for_team(self, team_id: str) -> WebClient:
        """The client for a workspace's waiting post; NotInstalled if it has none."""
        return self.identity.client_for(team_id)

    def learn(self) -> None:
        """Single-workspace mode: ask Slack who we are now, in the background."""
        if isinstance(self.identity, BotIdentity):
            self.identity.learn()


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clients: SlackClients
    worker: OutboxWorker = field(init=False)
    # Slack's answers about people (admins, guests, channels), kept briefly.
    directory: Directory = field(default_factory=Directory)
    spool: EventSpool = field(init=False)
    # The scheduler, in a process that runs one beside serving (`python -m bot`).
    scheduler: BaseScheduler | None = None

    def __post_init__(self) -> None:
        delivery = Delivery(self.db, self.clients.for_team, self.settings.outbox_retry_base)
        self.worker = OutboxWorker(delivery)
        self.spool = EventSpool(self.settings.spool_dir)
        self.clients.learn()

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
        self.spool.stop()
        self.worker.stop(timeout)
        self.db.dispose()
