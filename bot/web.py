"""The WSGI app for the Procfile's web process: `gunicorn 'bot.web:create_app()'`."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from slack_bolt.adapter.flask import SlackRequestHandler

from bot.app import build_app, replay_into
from bot.config import Settings, load_settings
from bot.logs import configure_logging
from bot.runtime import Runtime


def create_app(settings: Settings | None = None, *, start_worker: bool = True) -> Flask:
    """Build the HTTP app: Slack's endpoint, OAuth routes when configured, and /healthz."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    # Every request is checked against the signing secret, Socket Mode or not.
    settings.require_credentials(http=True)
    runtime = Runtime.create(settings)
    if start_worker:
        runtime.worker.start()
    bolt = build_app(settings, runtime.db, clients=runtime.clients,
                     wake_outbox=runtime.worker.wake, directory=runtime.directory,
                     spool=runtime.spool)
    runtime.spool.start(replay_into(bolt))
    slack = SlackRequestHandler(bolt)

    web = Flask("debrief")
    web.extensions["debrief"] = runtime

    @web.post("/slack/events")
    def slack_events() -> Response:
        return slack.handle(request)

    if settings.oauth:
        # "Add to Slack" and Slack's way back: Bolt's OAuth flow, with our pages (bot/app.py).
        @web.get("/slack/install")
        def install() -> Response:
            return slack.handle(request)

        @web.get("/slack/oauth_redirect")
        def oauth_redirect() -> Response:
            return slack.handle(request)

    @web.get("/healthz")
    def healthz() -> ResponseReturnValue:
        if runtime.db.ping():
            return jsonify(ok=True, db="ok")
        return jsonify(ok=False, db="unavailable"), 503

    return web
