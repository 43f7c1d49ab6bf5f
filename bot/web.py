"""The WSGI app for the Procfile's web process: `gunicorn --config python:bot.serving
'bot.web:create_app()'`: Slack's endpoint, OAuth routes, /healthz, /readyz and /metrics."""

from __future__ import annotations

import time

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from slack_bolt.adapter.flask import SlackRequestHandler

from bot import metrics
from bot.app import build_app, replay_into
from bot.config import Settings, load_settings
from bot.logs import configure_logging, working_on
from bot.outbox import store
from bot.runtime import Runtime


def create_app(settings: Settings | None = None, *, start_worker: bool = True) -> Flask:
    """Build the HTTP app: Slack's endpoint, OAuth routes when configured, /healthz
    (liveness), /readyz (readiness) and /metrics."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    # Every request is checked against the signing secret, Socket Mode or not.
    settings.require_credentials(http=True)
    runtime = Runtime.create(settings)
    if start_worker:
        runtime.worker.start()
    bolt = build_app(settings, runtime.db, clients=runtime.clients,
                     wake_outbox=runtime.worker.wake, directory=runtime.directory,
                     spool=runtime.spool)
    metrics.instrument(bolt)
    runtime.spool.start(replay_into(bolt))
    slack = SlackRequestHandler(bolt)

    web = Flask("debrief")
    web.extensions["debrief"] = runtime

    @web.post("/slack/events")
    def slack_events() -> Response:
        started = time.perf_counter()
        with working_on() as work:  # Bolt's middleware fills in kind and workspace
            answer = slack.handle(request)
        metrics.observe_request(work.kind, time.perf_counter() - started)
        return answer

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

    @web.get("/readyz")
    def readyz() -> ResponseReturnValue:
        state = runtime.db.readiness()
        ready = state == {"db": "ok", "schema": "current"}
        return jsonify(ok=ready, **state), 200 if ready else 503

    def outbox_figures() -> dict[str, float]:
        with runtime.db.session() as db:
            return store.figures(db)

    @web.get("/metrics")
    def scrape() -> Response:
        body, content_type = metrics.exposition(outbox_figures)
        return Response(body, content_type=content_type)

    return web
