"""Slack surfaces: one module each. Listeners ack, parse, call a service, render."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import commands, views


def register(app: App) -> None:
    commands.register(app)
    views.register(app)
