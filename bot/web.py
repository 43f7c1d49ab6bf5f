"""The WSGI app for the Procfile's web process: `gunicorn --config python:bot.serving
'bot.web:create_app()'`: Slack's endpoint, OAuth routes, /healthz, /readyz and /metrics."""

from __future__ import annotations

import time

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from slack_bolt.adapter.flask import SlackRequestHandler

from bot import metrics
from bot.app import build_app
from bot.config import Settings, load_settings
from bot.logs import configure_logging, working_on
from bot.outbox import store
from bot.runtime import Runtime


def create_app(settings: Settings | None = None, *, start_worker: bool = True) -> Flask:
    """Build the HTTP app: Slack's endpoint, OAuth routes when configured, /healthz
    (liveness), /readyz (readiness) and /metrics."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    settings.require_credentials()
    runtime = Runtime.create(settings)
    if start_worker:
        runtime.worker.start()
    bolt = build_app(settings, runtime.db, client=runtime.clients.default,
                     wake_outbox=runtime.worker.wake)
    metrics.instrument(bolt)
    slack = SlackRequestHandler(bolt)

    web = Flask("debrief")
    web.extensions["debrief"] = runtime

    @web.post("/slack/events")
    def slack_events():  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        with working_on() as work:  # Bolt's middleware fills in kind and workspace
            answer = slack.handle(request)
        metrics.observe_request(work.kind, time.perf_counter() - started)
        return answer

    if settings.oauth:
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
