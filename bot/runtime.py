"""What one process of the bot holds: settings, database, Slack clients, outbox worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.directory import Directory
from bot.identity import BotIdentity, Identity, InstalledBots
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
        self.default = WebClient(token=None if settings.oauth else settings.bot_token,
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

    def __post_init__(self) -> None:
        delivery = Delivery(self.db, self.clients.for_team, self.settings.outbox_retry_base)
        self.worker = OutboxWorker(delivery)
        self.spool = EventSpool(self.settings.spool_dir)
        self.clients.learn()

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url)
        return cls(settings, db, SlackClients(settings, db))

    def close(self) -> None:
        self.spool.stop()
        self.worker.stop()
        self.db.dispose()
