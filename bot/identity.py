"""Who the bot is in Slack, learned from `auth.test` once, off the request path.

Bolt's single-workspace mode calls `auth.test` on the first request and fails the request
when Slack is unreachable; that would lose what a person just wrote. We authorize from
the token we already have and learn the bot's user id in the background.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

log = logging.getLogger(__name__)


class BotIdentity:
    RETRY_SECONDS = 30.0

    def __init__(self, client: WebClient):
        self.client = client
        self.user_id: str | None = None
        self.bot_id: str | None = None
        self._lock = threading.Lock()
        self._last_try = 0.0

    def learn(self) -> None:
        """Ask Slack once (or again, after a failure and a pause), in a thread."""
        with self._lock:
            if self.user_id or time.monotonic() - self._last_try < self.RETRY_SECONDS:
                return
            self._last_try = time.monotonic()
        threading.Thread(target=self._ask, name="auth.test", daemon=True).start()

    def _ask(self) -> None:
        try:
            answer = self.client.auth_test()
        except Exception as error:  # Slack down: we will ask again later
            log.warning("auth.test failed, will retry: %r", error)
            with self._lock:
                self._last_try = time.monotonic()
            return
        self.user_id = answer.get("user_id")
        self.bot_id = answer.get("bot_id")

    def authorize(self, enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        if self.user_id is None:
            self.learn()
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=self.client.token,
            bot_user_id=self.user_id,
            bot_id=self.bot_id,
        )
