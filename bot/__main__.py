"""`python -m bot`: migrate, then serve Slack (HTTP under gunicorn, or Socket Mode) with the
scheduler in the same process. `python -m bot migrate` only migrates (the Procfile's release).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from gunicorn.app.base import BaseApplication

from bot.config import MissingCredentials, Settings, load_settings
from bot.db.migrate import upgrade
from bot.logs import configure_logging, slack_logger

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("bot")


class _Server(BaseApplication):
    """gunicorn in-process: one worker with threads, the scheduler inside it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"0.0.0.0:{self.settings.port}")
        self.cfg.set("workers", 1)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", 8)
        self.cfg.set("accesslog", None)

    # types-gunicorn's WSGI app takes a start_response without exc_info (PEP 3333 has
    # it), so no Flask app matches the type it expects here.
    def load(self) -> Flask:  # type: ignore[override]
        from bot.clock import build_scheduler
        from bot.web import create_app

        web = create_app(self.settings)
        build_scheduler(web.extensions["debrief"], blocking=False).start()
        return web


def serve_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_app, replay_into
    from bot.clock import build_scheduler
    from bot.runtime import Runtime

    runtime = Runtime.create(settings)
    runtime.worker.start()
    build_scheduler(runtime, blocking=False).start()
    bolt = build_app(settings, runtime.db, client=runtime.clients.default,
                     wake_outbox=runtime.worker.wake, directory=runtime.directory,
                     spool=runtime.spool)
    runtime.spool.start(replay_into(bolt))
    SocketModeHandler(bolt, settings.app_token, logger=slack_logger()).start()


def main(argv: list[str]) -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    if argv[:1] == ["migrate"]:
        upgrade(settings.database_url)
        return 0
    if argv:
        print("usage: python -m bot [migrate]", file=sys.stderr)
        return 2
    try:
        settings.require_credentials()
    except MissingCredentials as error:
        print(error, file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    if settings.socket_mode:
        log.info("Debrief starting in Socket Mode")
        serve_socket_mode(settings)
    else:
        log.info("Debrief listening on port %s (POST /slack/events)", settings.port)
        _Server(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
