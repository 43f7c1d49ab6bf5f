"""The real WSGI app served over real HTTP on 127.0.0.1, for the tests."""

from __future__ import annotations

import threading
from dataclasses import replace

from werkzeug.serving import make_server

from bot.config import Settings
from bot.runtime import Runtime
from bot.web import create_app
from tests.kit.slack_requests import SIGNING_SECRET, SlackSender

BOT_TOKEN = "xoxb-test-token"


def bot_settings(database_url: str, slack_api_url: str, **overrides: object) -> Settings:
    settings = Settings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET,
                        database_url=database_url, slack_api_url=slack_api_url,
                        outbox_retry_base=0.05)
    return replace(settings, **overrides)  # type: ignore[arg-type]


class BotServer:
    """One running bot process, as far as the tests can tell: HTTP server + outbox worker."""

    def __init__(self, settings: Settings, *, start_worker: bool = True):
        self.settings = settings
        self.web = create_app(settings, start_worker=start_worker)
        self.runtime: Runtime = self.web.extensions["debrief"]
        self.server = make_server("127.0.0.1", 0, self.web, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.slack = SlackSender(self.url, hooks_url=settings.slack_api_url.removesuffix(
            "api/") + "hooks")

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the outbox worker has sent everything due and recorded what came of
        it (OutboxWorker.wait_idle); fails with TimeoutError rather than hope."""
        self.runtime.worker.wait_idle(timeout)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.runtime.close()
