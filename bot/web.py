"""The WSGI app for the Procfile's web process: `gunicorn 'bot.web:create_app()'`."""

from __future__ import annotations

from flask import Flask, jsonify, request
from slack_bolt.adapter.flask import SlackRequestHandler

from bot.app import build_app
from bot.config import Settings, load_settings
from bot.logs import configure_logging
from bot.runtime import Runtime


def create_app(settings: Settings | None = None, *, start_worker: bool = True) -> Flask:
    """Build the HTTP app: Slack's endpoint, OAuth routes when configured, and /healthz."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    settings.require_credentials()
    runtime = Runtime.create(settings)
    if start_worker:
        runtime.worker.start()
    bolt = build_app(settings, runtime.db, clients=runtime.clients,
                     wake_outbox=runtime.worker.wake)
    slack = SlackRequestHandler(bolt)

    web = Flask("debrief")
    web.extensions["debrief"] = runtime

    @web.post("/slack/events")
    def slack_events():  # type: ignore[no-untyped-def]
        return slack.handle(request)

    if settings.oauth:
        # "Add to Slack" and Slack's way back: Bolt's OAuth flow, with our pages (bot/app.py).
        @web.get("/slack/install")
        def install():  # type: ignore[no-untyped-def]
            return slack.handle(request)

        @web.get("/slack/oauth_redirect")
        def oauth_redirect():  # type: ignore[no-untyped-def]
            return slack.handle(request)

    @web.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        if runtime.db.ping():
            return jsonify(ok=True, db="ok")
        return jsonify(ok=False, db="unavailable"), 503

    return web
