"""Slack surfaces: one module each. Listeners ack, parse, call a service, render."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from bot.config import Settings
from bot.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """What listeners need from the process, handed over at registration."""

    database: Database
    settings: Settings
    wake_outbox: Callable[..., None]  # OutboxWorker.wake
    # For Slack calls that must follow the ack at once (views.open: trigger_id lives 3 s).
    background: Executor

    def after_ack(self, work: Callable[..., Any], *args: Any) -> None:
        """Run `work(*args)` on the background pool; a failure is logged, not lost."""

        def run() -> None:
            try:
                work(*args)
            except Exception:
                log.exception("work after the ack failed: %s", getattr(work, "__name__", work))

        self.background.submit(run)


def register(app: App, deps: Deps) -> None:
    from bot.listeners import (
        cards,
        commands,
        events,
        export,  # noqa: F401 (its subcommand registers on import)
        forget,
        hope,
        kudos,
        rotation,
        settings,
        views,
    )
    from bot.listeners import digest as _digest  # noqa: F401 (its subcommands register)
    from bot.listeners import search as _search  # noqa: F401

    # Bolt tries listeners in this order, at a cost for each: the hot paths first.
    commands.register(app, deps)
    events.register(app, deps)
    views.register(app, deps)
    cards.register(app, deps)
    settings.register(app, deps)
    kudos.register(app, deps)
    hope.register(app, deps)
    forget.register(app, deps)
    rotation.register(app, deps)
