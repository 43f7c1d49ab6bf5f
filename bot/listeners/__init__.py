"""Slack in: one module per Slack surface, each with `register(app, deps)`. Listeners
parse, call a service, render; each runs inside one unit of work (unit.py), applied here
to every listener alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.listeners.deps import Deps
from bot.listeners.router import Handler, Router
from bot.listeners.unit import Listener, unit_of_work

__all__ = ["Deps", "Listeners", "register"]


class Listeners:
    """The Bolt app as listener modules see it: every listener registered here runs in
    its own unit of work; `/debrief`'s words go to the router."""

    def __init__(self, app: App, deps: Deps):
        self.app, self.deps = app, deps
        self.router = Router()

    def command(self, name: str, listener: Listener) -> None:
        self.app.command(name)(unit_of_work(self.deps, listener))

    def view(self, callback_id: Any, listener: Listener) -> None:
        self.app.view(callback_id)(unit_of_work(self.deps, listener))

    def action(self, action_id: Any, listener: Listener) -> None:
        self.app.action(action_id)(unit_of_work(self.deps, listener))

    def options(self, action_id: Any, listener: Listener) -> None:
        """The options of an external select (block_suggestion), filtered as typed."""
        self.app.options(action_id)(unit_of_work(self.deps, listener))

    def shortcut(self, callback_id: Any, listener: Listener) -> None:
        """A global or message shortcut (manifest.yml)."""
        self.app.shortcut(callback_id)(unit_of_work(self.deps, listener))

    def event(self, event: Any, listener: Listener, *, dedupe: bool = True) -> None:
        self.app.event(event)(unit_of_work(self.deps, listener, dedupe=dedupe))

    def subcommand(self, *names: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
        """`/debrief NAME …` is handled by the decorated function (listeners/router.py)."""
        return self.router.add(*names, usage=usage, summary=summary)


def register(app: App, deps: Deps) -> None:
    from bot.listeners import (
        cards,
        checkback,
        collaborators,
        commands,
        digest,
        drafts,
        entry_menu,
        events,
        export,
        forget,
        health,
        home,
        hope,
        kudos,
        lookback,
        rotation,
        search,
        settings,
        shortcuts,
        views,
    )

    listeners = Listeners(app, deps)
    # Bolt tries listeners in this order, at a cost for each: the hot paths first.
    for module in (commands, events, views, cards, collaborators, export, forget, hope, kudos,
                   rotation, settings, digest, search, entry_menu, home, lookback, shortcuts,
                   drafts, checkback, health):
        module.register(listeners, deps)
