"""What listeners need from the process, handed over when they are registered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.db import Database
from bot.directory import Directory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    database: Database
    settings: Settings
    wake_outbox: Callable[..., None]  # OutboxWorker.wake
    # For Slack calls that must follow the ack at once (views.open: trigger_id lives 3 s).
    background: Executor
    # Who people are in Slack now (admins, guests, channels), kept briefly.
    directory: Directory = field(default_factory=Directory)
    # After an uninstall: drop the tokens this process has cached (bot/identity.py).
    forget_tokens: Callable[[], None] = lambda: None

    def after_ack(self, work: Callable[..., Any], *args: Any) -> None:
        """Run `work(*args)` on the background pool; a failure is logged, not lost."""

        def run() -> None:
            try:
                work(*args)
            except Exception:
                log.exception("work after the ack failed: %s", getattr(work, "__name__", work))

        self.background.submit(run)
