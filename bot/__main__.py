"""`python -m bot`: migrate, then serve Slack (HTTP under gunicorn, or Socket Mode) with the
scheduler in the same process. `python -m bot migrate` only migrates (the Procfile's release).

SIGTERM stops it cleanly either way: no new requests or claims, the outbox's send in flight
finishes and its other claims go back, exit status 0 within 10 seconds.
Tokens at rest: `python -m bot new-token-key` prints a key for TOKEN_ENCRYPTION_KEY;
`python -m bot rotate-token-key` re-encrypts every stored token with the first of its keys
(put the new key first, keep the old one after it until this has run).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.config import MissingCredentials, Settings, load_settings
from bot.db.migrate import upgrade
from bot.logs import configure_logging, slack_logger

log = logging.getLogger("bot")

# Socket Mode: how long the outbox's send in flight may take to finish on SIGTERM.
STOP_SECONDS = 7.0


class _Server(BaseApplication):
    """gunicorn in-process, set up as the Procfile's web (bot/serving.py): one worker
    with threads, the scheduler inside it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        # Imported here, in the master before the worker is forked: it chooses
        # prometheus_client's multiprocess directory for the worker.
        from bot import serving

        for name, value in serving.settings().items():
            if name in self.cfg.settings:  # an older gunicorn lacks a few
                self.cfg.set(name, value)
        self.cfg.set("bind", f"0.0.0.0:{self.settings.port}")
        self.cfg.set("workers", 1)
        self.cfg.set("threads", 8)

    def load(self) -> Any:
        from bot.clock import build_scheduler
        from bot.web import create_app

        web = create_app(self.settings)
        runtime = web.extensions["debrief"]
        # Shut down with the worker (bot/serving.py's worker_exit closes the runtime).
        runtime.scheduler = build_scheduler(runtime, blocking=False)
        runtime.scheduler.start()
        return web


def serve_socket_mode(settings: Settings) -> None:
    """Socket Mode until SIGTERM (or Ctrl-C): then the socket is closed, the worker and the
    scheduler stop, and the process exits 0."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_app, replay_into
    from bot.clock import build_scheduler
    from bot.metrics import instrument
    from bot.runtime import Runtime

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime = Runtime.create(settings)
    runtime.worker.start()
    runtime.scheduler = build_scheduler(runtime, blocking=False)
    runtime.scheduler.start()
    bolt = build_app(settings, runtime.db, clients=runtime.clients,
                     wake_outbox=runtime.worker.wake, directory=runtime.directory,
                     spool=runtime.spool)
    instrument(bolt)
    runtime.spool.start(replay_into(bolt))
    # slack_sdk's built-in client (no dependency); it reconnects when Slack drops the socket.
    handler = SocketModeHandler(bolt, settings.app_token, logger=slack_logger())
    try:
        handler.connect()
        stop.wait()
        log.info("stopping: closing the socket")
    finally:
        handler.close()  # no new requests
        runtime.close(STOP_SECONDS)
        log.info("Debrief stopped cleanly")


def rotate_token_key(settings: Settings) -> int:
    from bot.db import make_engine
    from bot.tokens import Installations, TokenKeyMissing

    engine = make_engine(settings.database_url)
    try:
        changed = Installations(settings, engine).rotate_key()
    except TokenKeyMissing as error:
        print(f"rotate-token-key: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"Re-encrypted {changed} stored token(s) with the first key of TOKEN_ENCRYPTION_KEY;"
          " the keys after it may now be removed.")
    return 0


USAGE = "usage: python -m bot [migrate | new-token-key | rotate-token-key]"


def main(argv: list[str]) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if argv[:1] == ["migrate"]:
        upgrade(settings.database_url)
        return 0
    if argv[:1] == ["new-token-key"]:
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        return 0
    if argv and argv[:1] != ["rotate-token-key"]:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        settings.require_credentials(serving=not argv)
    except MissingCredentials as error:
        print(error, file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    if argv:
        return rotate_token_key(settings)
    if settings.socket_mode:
        log.info("Debrief starting in Socket Mode")
        serve_socket_mode(settings)
    else:
        log.info("Debrief listening on port %s (POST /slack/events)", settings.port)
        _Server(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
