"""What one process of the bot holds: settings, database, Slack clients, outbox worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.app import installation_store
from bot.config import Settings
from bot.db import Database
from bot.directory import Directory
from bot.outbox.delivery import Delivery
from bot.outbox.worker import OutboxWorker
from bot.spool import EventSpool

log = logging.getLogger(__name__)


class SlackClients:
    """The WebClient for a workspace: the one bot token, or the installed one (OAuth)."""

    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        self.default = WebClient(token=settings.bot_token, base_url=settings.slack_api_url,
                                 timeout=10)
        self._store = installation_store(settings, db) if settings.oauth else None

    def for_team(self, team_id: str) -> WebClient:
        if self._store is None:
            return self.default
        bot = self._store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            raise LookupError(f"no installation for workspace {team_id}")
        return WebClient(token=bot.bot_token, base_url=self.settings.slack_api_url, timeout=10)


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

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url)
        return cls(settings, db, SlackClients(settings, db))

    def close(self) -> None:
        self.spool.stop()
        self.worker.stop()
        self.db.dispose()
