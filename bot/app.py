"""build_app: the Bolt app with its middleware, listeners and one error handler."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import cast

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from bot import listeners
from bot.config import Settings
from bot.db import Database
from bot.directory import Directory
from bot.identity import org_workspace
from bot.listeners.slack_text import typed_text
from bot.listeners.unit import first_input
from bot.logs import slack_logger
from bot.runtime import SlackClients
from bot.services import workspaces
from bot.spool import EventSpool
from bot.tokens import STATE_SECONDS, OAuthStates
from bot.views import pages
from bot.views.text import safe

log = logging.getLogger(__name__)

# Every scope the code uses, and no more; manifest.yml lists the same (a test checks).
BOT_SCOPES = [
    # conversations.history / .replies: before posting again after a lost reply, look
    # for the first post (bot/outbox/posting.py); forget-me finds copies of a person's
    # posts the bot never learned of by their metadata.
    "channels:history",
    "channels:join",
    "channels:read",  # users.conversations: public channels a person is in (App Home)
    "chat:write",
    "commands",
    # files.list: before sharing a file again after a lost reply, look for the first
    # (bot/outbox/uploading.py); forget-me finds every copy of an export.
    "files:read",
    "files:write",  # files_upload_v2: /debrief export's file, the health chart's PNG
    "groups:history",  # the same look in private channels
    "groups:read",  # users.conversations: private channels a person and the bot share
    "im:history",  # the same look in a DM (check-backs, nudges, capture asks, notices)
    "im:write",  # conversations.open: the DM's own id, to look in it
    "reactions:read",  # reaction_added / reaction_removed: applause
    "users:read",  # users.info: admins, time zones, deactivation, authors' names in exports
]


# What a person sees when their workspace has no Debrief (Bolt answers with it).
NOT_INSTALLED = (":no_entry: Debrief is not installed in this workspace, so nothing was saved. "
                 "Ask a workspace admin to add it to Slack.")


class InstallFlow(OAuthFlow):
    """Bolt's OAuth flow with our pages, and the workspace recorded when it is installed
    (a reinstall within the retention finds its data again)."""

    def __init__(self, settings: Settings, db: Database, clients: SlackClients):
        assert clients.store is not None
        self.db = db
        super().__init__(client=clients.default, settings=OAuthSettings(
            client_id=settings.client_id, client_secret=settings.client_secret,
            scopes=BOT_SCOPES, installation_store=clients.store,
            state_store=OAuthStates(db.engine), state_expiration_seconds=STATE_SECONDS,
            callback_options=CallbackOptions(success=self.installed, failure=self.failed)))

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        return pages.install_page(url)

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        super().store_installation(request, installation)
        with self.db.session() as db:
            if installation.is_enterprise_install and installation.enterprise_id:
                workspaces.org_installed(db, installation.enterprise_id)
            elif installation.team_id:
                workspaces.installed(db, installation.team_id, installation.enterprise_id)
            db.commit()

    def installed(self, args: SuccessArgs) -> BoltResponse:
        found = args.installation
        log.info("installed in workspace %s (enterprise %s)", found.team_id,
                 found.enterprise_id)
        html = pages.installed_page(app_id=found.app_id, team_id=found.team_id,
                                    team_name=found.enterprise_name
                                    if found.is_enterprise_install else found.team_name,
                                    org_wide=bool(found.is_enterprise_install),
                                    enterprise_url=found.enterprise_url)
        return self._page(200, html)

    def failed(self, args: FailureArgs) -> BoltResponse:
        log.warning("an install failed: %s", args.reason)
        page = pages.install_failed_page(args.reason, self.install_path)
        return self._page(page.status, page.html)

    def _page(self, status: int, html: str) -> BoltResponse:
        # The state's cookie is spent either way: a reload starts again.
        return BoltResponse(status=status, body=html, headers={
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": self.settings.state_utils.build_set_cookie_for_deletion()})


def build_app(
    settings: Settings,
    db: Database,
    *,
    clients: SlackClients,
    wake_outbox: Callable[..., None] = lambda paced_channel=None: None,
    background: Executor | None = None,
    directory: Directory | None = None,
    spool: EventSpool | None = None,
) -> App:
    """The Bolt app. Listeners run before the response (`process_before_response`) and
    only do fast local work; Slack calls go through the outbox or `background`.

    Which workspace a request belongs to, and its token, come from `clients.identity`
    (bot/identity.py): the installed workspace's (OAuth), or the one bot token's own
    workspace, refusing any other (single-workspace mode)."""
    background = background or ThreadPoolExecutor(4, thread_name_prefix="after-ack")
    identity = clients.identity
    # Token-less: Bolt gives each request a client with the token authorize found.
    client = WebClient(base_url=settings.slack_api_url, timeout=clients.default.timeout)
    # Bolt's hint says an AuthorizeResult; None (refused) is what Bolt expects for "no".
    authorize = cast(Callable[..., AuthorizeResult], identity)
    if settings.oauth:
        if settings.bot_token:  # Bolt's own notice of this is dropped (bot/logs.py)
            log.warning("SLACK_BOT_TOKEN is set, but with OAuth (SLACK_CLIENT_ID and "
                        "SLACK_CLIENT_SECRET) each workspace's own token is used: it is "
                        "ignored. Unset it.")
        app = App(signing_secret=settings.signing_secret, client=client,
                  logger=slack_logger(), process_before_response=True, authorize=authorize,
                  before_authorize=org_workspace, oauth_flow=InstallFlow(settings, db, clients),
                  user_facing_authorize_error_message=NOT_INSTALLED)
    else:
        app = App(signing_secret=settings.signing_secret, client=client,
                  logger=slack_logger(), process_before_response=True, authorize=authorize,
                  user_facing_authorize_error_message=NOT_INSTALLED)

    @app.error
    def on_error(error: Exception, request: BoltRequest, logger: logging.Logger) -> BoltResponse:
        # Log the kind of failure, never the payload: it may hold private text.
        replaying = bool(request.headers.get(REPLAY_HEADER))
        if spool is not None and not replaying and _database_unavailable(error) \
                and spool.keep(request.body):
            # Kept on disk and applied when the database is back (bot/spool.py): Slack's
            # retries would end within minutes, and the event with them.
            logger.warning("database unavailable: %s kept for later (%s)",
                           _request_kind(request.body), type(error).__name__)
            return BoltResponse(status=200, body="")
        logger.error("listener failed on %s: %s", _request_kind(request.body),
                     type(error).__name__, exc_info=error)
        return _apology(request.body)

    listeners.register(app, listeners.Deps(database=db, settings=settings,
                                           wake_outbox=wake_outbox, background=background,
                                           directory=directory or Directory(),
                                           forget_tokens=identity.forget))
    return app


REPLAY_HEADER = "x-debrief-replay"


def _database_unavailable(error: Exception) -> bool:
    """The database did not answer (down, unreachable, or busy past its time limit), as
    opposed to a mistake in what was asked of it."""
    return isinstance(error, OperationalError | DisconnectionError | TimeoutError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def replay_into(app: App) -> Callable[[dict], int]:
    """How the spool hands a kept event back to `app`: as Slack would, minus the
    signature (checked when it first came in)."""
    def dispatch(body: dict) -> int:
        # Marked, so a replay that fails is not kept again (and reported as done).
        return app.dispatch(BoltRequest(body=body, mode="socket_mode",
                                        headers={REPLAY_HEADER: "1"})).status
    return dispatch


def _request_kind(body: dict) -> str:
    if body.get("command"):
        return f"command {body['command']}"
    if body.get("type") == "event_callback":
        return f"event {body.get('event', {}).get('type')}"
    return str(body.get("type") or "request")


def _apology(body: dict) -> BoltResponse:
    """What the person sees when we fail: their words back, so nothing is lost."""
    sorry = ":warning: Something went wrong on our side and this was not saved."
    if body.get("command"):
        typed = typed_text(body.get("text") or "")
        text = sorry + (f" What you typed:\n```{typed}```" if typed.strip() else "")
        return BoltResponse(status=200, body=json.dumps({"text": safe(text)}),
                            headers={"content-type": ["application/json"]})
    if body.get("type") == "view_submission":
        block_id = first_input(body)
        if block_id is None:
            # Nothing typed to keep (a confirmation): say so in place of the modal.
            answer = {"response_action": "update", "view": View(
                type="modal", title="Sorry", close="Close",
                blocks=[SectionBlock(text=":warning: Something went wrong on our side and "
                                          "nothing was changed. Please try again in a "
                                          "minute.")]).to_dict()}
        else:
            # Keep the modal open: the person's text stays in it.
            answer = {"response_action": "errors", "errors": {
                block_id: "Something went wrong on our side; please press the button again."}}
        return BoltResponse(status=200, body=json.dumps(answer),
                            headers={"content-type": ["application/json"]})
    # Events: a 500 makes Slack retry, and the dedupe row was rolled back with the work.
    return BoltResponse(status=500, body="")
