"""Who the bot is in each workspace, and with which token it speaks there.

Two kinds, one shape (`Identity`): `authorize` decides which workspace a request belongs to
and hands Bolt that workspace's token; `client_for` gives the outbox a client for a
workspace's waiting post, or raises `NotInstalled` (the post is dropped, never sent with
another workspace's token).

- `BotIdentity`, single-workspace mode (SLACK_BOT_TOKEN): serves its own workspace only,
  learned from `auth.test` off the request path (Bolt's own single-workspace mode asks on
  the first request and fails it when Slack is unreachable, losing what a person wrote).
- `InstalledBots`, OAuth: the token installed in the workspace, found by team AND
  enterprise (an org-wide install by its enterprise), cached briefly, and refreshed before
  it expires when Slack rotates it, for requests and for posts that waited alike.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.db import Database
from bot.metrics import MeteredWebClient
from bot.outbox.retry import Permanent
from bot.services import workspaces
from bot.tokens import Installations, TokenKeyMissing

log = logging.getLogger(__name__)


class NotInstalled(LookupError):
    """The bot has no token for this workspace (never installed, or uninstalled)."""


class NotOurs(Permanent):
    """Single-workspace mode: a post for another workspace than the token's (taken while
    Slack had not said whose the token is). The row fails for good, with this reason."""


class TokenRefreshFailed(RuntimeError):
    """Slack would not refresh an expired rotating token: try again later."""


class Identity(Protocol):
    def __call__(self, *, context: BoltContext, enterprise_id: str | None,
                 team_id: str | None, user_id: str | None = None,
                 **actor: Any) -> AuthorizeResult | None: ...

    def authorize(self, context: BoltContext, enterprise_id: str | None,
                  team_id: str | None) -> AuthorizeResult | None: ...

    def client_for(self, team_id: str) -> WebClient: ...

    def forget(self) -> None: ...


def org_workspace(context: BoltContext, body: dict, next: Callable[[], Any]) -> Any:
    """Bolt's `before_authorize`: an org-wide install's request has no workspace in its
    `authorizations` (the install is the org's), so Bolt finds none (or, for a button,
    the person's home team). The workspace is the one Slack names in the signed payload
    (`team_id`, `team.id`, `view.team_id`): never a field the person could choose."""
    if context.is_enterprise_install:
        team = body.get("team")
        named = body.get("team_id") or (team.get("id") if isinstance(team, dict) else None) \
            or (body.get("view") or {}).get("app_installed_team_id") \
            or (body.get("view") or {}).get("team_id")
        if named and str(named).startswith("T"):
            context["team_id"] = named
            # An org's token needs the workspace named on some calls (users.conversations…).
            context.client.default_params["team_id"] = named
        else:
            context.pop("team_id", None)  # an org-level surface: no workspace to act in
    return next()


def _check_installed(db: Database, team_id: str) -> None:
    """One primary-key read per post: an uninstall seen by any process stops the sends of
    every process at once."""
    with db.session() as session:
        if workspaces.is_uninstalled(session, team_id):
            raise NotInstalled(f"workspace {team_id} uninstalled the app")


def _record(db: Database, team_id: str, enterprise_id: str | None, org_install: bool) -> None:
    with db.session() as session:
        workspaces.installed(session, team_id, enterprise_id, org_install=org_install)
        session.commit()


class BoltAuthorize(Authorize):
    """Bolt's `authorize` as an object Bolt calls as it is (a function would have its
    arguments looked up by name on every request); `authorize` decides."""

    def __call__(self, *, context: BoltContext, enterprise_id: str | None,
                 team_id: str | None, user_id: str | None = None,
                 **actor: Any) -> AuthorizeResult | None:
        return self.authorize(context, enterprise_id, team_id)

    def authorize(self, context: BoltContext, enterprise_id: str | None,
                  team_id: str | None) -> AuthorizeResult | None:
        raise NotImplementedError


class BotIdentity(BoltAuthorize):
    """Single-workspace mode: the one bot token, for its own workspace only."""

    # After a failed auth.test, the background asks again after this long.
    RETRY_SECONDS = 30.0
    # A request that comes before Slack has said whose the token is waits this long for
    # the answer (well inside Slack's 3 seconds), so another workspace is refused even on
    # the very first request.
    WAIT_SECONDS = 1.0

    def __init__(self, client: WebClient, db: Database):
        self.client = client
        self.db = db
        self.user_id: str | None = None
        self.bot_id: str | None = None
        self.team_id: str | None = None
        self.enterprise_id: str | None = None
        self._lock = threading.Lock()
        self._asked = threading.Condition(self._lock)  # an answer came, or an ask ended
        self._asking = False  # one auth.test in flight at a time
        self._learning = threading.Lock()
        self._last_try = 0.0

    def learn(self, *, now: bool = False) -> None:
        """Ask Slack in a thread, unless an ask is in flight; after a failure, again only
        after a pause, unless `now` (a request is waiting for the answer)."""
        with self._lock:
            if self.team_id or self._asking or (
                    not now and time.monotonic() - self._last_try < self.RETRY_SECONDS):
                return
            self._asking = True
            self._last_try = time.monotonic()
        threading.Thread(target=self._ask, name="auth.test", daemon=True).start()

    def _ask(self) -> None:
        try:
            self.learn_now()
        except Exception as error:  # Slack down: we will ask again later
            log.warning("auth.test failed, will retry: %r", error)
        finally:
            with self._asked:
                self._asking = False
                self._last_try = time.monotonic()
                self._asked.notify_all()

    def wait(self, seconds: float) -> str | None:
        """Our workspace, waiting up to `seconds` for Slack to say it (asking if nobody
        is); None if Slack has not answered by then."""
        if self.team_id is None:
            self.learn(now=True)
            with self._asked:
                self._asked.wait_for(lambda: self.team_id is not None or not self._asking,
                                     timeout=seconds)
        return self.team_id

    def learn_now(self) -> str:
        """Ask Slack who the token belongs to, now; the workspace's id."""
        if self.team_id:
            return self.team_id
        with self._learning:  # the outbox and the background thread may ask at once
            if self.team_id:
                return self.team_id
            answer = self.client.auth_test()
            self.user_id, self.bot_id = answer.get("user_id"), answer.get("bot_id")
            self.enterprise_id = answer.get("enterprise_id")
            team_id = str(answer["team_id"])
            # A token that answers is installed: a reinstall after an uninstall counts.
            _record(self.db, team_id, self.enterprise_id, org_install=False)
            with self._asked:
                self.team_id = team_id
                self._asked.notify_all()
            return team_id

    def authorize(self, context: BoltContext, enterprise_id: str | None,
                  team_id: str | None) -> AuthorizeResult | None:
        ours = self.wait(self.WAIT_SECONDS)
        if ours is not None and team_id != ours:
            # Another workspace (the app is installed there too): not ours to answer.
            log.warning("refused a request from workspace %s: this bot serves %s only",
                        team_id, ours)
            return None
        if ours is None:
            # Slack did not say in time (it is unreachable): what people write is kept;
            # the outbox fails, with its reason logged, whatever turns out not to be ours.
            log.warning("auth.test has not answered: request from workspace %s taken "
                        "before knowing whether it is ours", team_id)
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id,
                               bot_token=self.client.token, bot_user_id=self.user_id,
                               bot_id=self.bot_id)

    def client_for(self, team_id: str) -> WebClient:
        if self.learn_now() != team_id:
            # Taken while Slack had not yet said whose the token is: never sent with our
            # token, and failed (not silently dropped), so an operator sees it.
            raise NotOurs(f"taken before auth.test answered, for workspace {team_id}; "
                          f"this bot (SLACK_BOT_TOKEN) serves {self.team_id} only, so it "
                          "is never sent")
        _check_installed(self.db, team_id)
        return self.client

    def forget(self) -> None:
        pass


@dataclass
class _Found:
    bot: Bot
    until: float  # monotonic: when to look in the database again


class InstalledBots(BoltAuthorize):
    """OAuth: each workspace's installed bot token (Bolt's `authorize` for requests, and
    the outbox's `client_for`)."""

    # How long a found installation is trusted before it is read again.
    CACHE_SECONDS = 30.0
    # A rotating token is refreshed this long before it expires (Bolt's default).
    REFRESH_MINUTES = 120

    def __init__(self, store: Installations, db: Database, *, client_id: str,
                 client_secret: str, api_url: str,
                 clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.db = db
        self.api_url = api_url
        # Metered: refreshes are counted by method and result like every other call.
        self.rotator = TokenRotator(client_id=client_id, client_secret=client_secret,
                                    client=MeteredWebClient(base_url=api_url, timeout=10))
        self._clock = clock
        self._found: dict[tuple[str | None, str | None], _Found] = {}
        self._recorded: set[str] = set()
        self._lock = threading.Lock()  # the cache
        self._refreshing = threading.Lock()  # one refresh at a time, lookups go on

    # --- Bolt's authorize ---

    def authorize(self, context: BoltContext, enterprise_id: str | None,
                  team_id: str | None) -> AuthorizeResult | None:
        org_install = bool(context.is_enterprise_install)
        if not team_id:
            return None  # no workspace to keep its data in (an org-level surface)
        try:
            bot = self.bot(enterprise_id, team_id, org_install=org_install)
        except (TokenRefreshFailed, TokenKeyMissing) as error:
            log.error("workspace %s: %s", team_id, error)
            return None
        if bot is None:
            log.warning("no installation for workspace %s (enterprise %s)", team_id,
                        enterprise_id)
            return None
        if team_id not in self._recorded:
            # First sight in this process: note its enterprise, so its waiting posts
            # find this token again (an org-wide install's workspaces are learned so).
            _record(self.db, team_id, enterprise_id, org_install)
            self._recorded.add(team_id)
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id,
                               bot_token=bot.bot_token, bot_id=bot.bot_id,
                               bot_user_id=bot.bot_user_id, bot_scopes=bot.bot_scopes)

    # --- the outbox ---

    def client_for(self, team_id: str) -> WebClient:
        with self.db.session() as session:
            workspace = workspaces.find(session, team_id)
        if workspace is not None and workspace.uninstalled_at is not None:
            raise NotInstalled(f"workspace {team_id} uninstalled the app")
        enterprise_id, org_install = (workspace.enterprise_id, workspace.org_install) \
            if workspace is not None else (None, False)
        bot = self.bot(enterprise_id, team_id, org_install=org_install)
        if bot is None:
            raise NotInstalled(f"no installation for workspace {team_id}")
        # An org-wide install's token serves many workspaces: some calls must name one.
        return MeteredWebClient(token=bot.bot_token, base_url=self.api_url, timeout=10,
                                team_id=team_id if org_install else None)

    # --- finding, caching, refreshing ---

    def bot(self, enterprise_id: str | None, team_id: str | None, *,
            org_install: bool = False) -> Bot | None:
        found = self._find(enterprise_id, team_id, org_install=org_install)
        return found.bot if found is not None else None

    def forget(self) -> None:
        """Drop what is cached (after an uninstall): read the database again."""
        with self._lock:
            self._found.clear()
            self._recorded.clear()

    def _find(self, enterprise_id: str | None, team_id: str | None, *,
              org_install: bool) -> _Found | None:
        key = (enterprise_id, None if org_install else team_id)
        with self._lock:
            found = self._found.get(key)
        if found is None or found.until <= self._clock():
            bot = self.store.find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                      is_enterprise_install=org_install)
            if bot is None:
                with self._lock:
                    self._found.pop(key, None)
                return None
            found = self._remember(key, bot)
        if self._expiring(found.bot):
            found = self._refresh(key, found.bot)
        return found

    def _remember(self, key: tuple[str | None, str | None], bot: Bot) -> _Found:
        found = _Found(bot, self._clock() + self.CACHE_SECONDS)
        with self._lock:
            self._found[key] = found
        return found

    def _expiring(self, bot: Bot) -> bool:
        expires = bot.bot_token_expires_at
        return bot.bot_refresh_token is not None and expires is not None and \
            expires <= time.time() + self.REFRESH_MINUTES * 60

    def _refresh(self, key: tuple[str | None, str | None], bot: Bot) -> _Found:
        """Refresh the rotating token (slack_sdk's TokenRotator, at SLACK_API_URL) and
        store it; one refresh at a time in this process. Another process (a second web
        worker, the clock) may refresh the same token at the same moment: Slack takes a
        refresh token once, so the one that loses finds the winner's token stored."""
        with self._refreshing:
            with self._lock:
                current = self._found.get(key)
            if current is not None and not self._expiring(current.bot):
                return current  # another thread just refreshed it
            try:
                fresh = self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=self.REFRESH_MINUTES)
            except SlackTokenRotationError as error:
                fresh = self._refreshed_elsewhere(bot)
                if fresh is not None:
                    log.info("a token was refreshed by another process: using it")
                    return self._remember(key, fresh)
                if (bot.bot_token_expires_at or 0) <= time.time():
                    raise TokenRefreshFailed(f"could not refresh its token: {error}") from error
                log.warning("could not refresh a token yet (it still works): %s", error)
            if fresh is not None:
                self.store.save_bot(fresh)
                bot = fresh
        return self._remember(key, bot)

    # After a refresh Slack refused, the stored installation is read again this many
    # times, this far apart: the process that won may be storing its token right now.
    REREAD_TRIES = 3
    REREAD_PAUSE = 0.2

    def _refreshed_elsewhere(self, bot: Bot) -> Bot | None:
        """The installation as stored now (no cache), if another process has refreshed
        its token since `bot` was read; None if not."""
        for attempt in range(self.REREAD_TRIES):
            if attempt:
                time.sleep(self.REREAD_PAUSE)
            stored = self.store.find_bot(enterprise_id=bot.enterprise_id, team_id=bot.team_id,
                                         is_enterprise_install=bot.is_enterprise_install)
            if stored is not None and stored.bot_token != bot.bot_token \
                    and not self._expiring(stored):
                return stored
        return None
