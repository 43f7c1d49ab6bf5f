"""build_app: the Bolt app with its middleware, listeners and one error handler."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from bot import listeners
from bot.config import Settings
from bot.db import Database
from bot.db.models import BOTS_TABLE, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE
from bot.directory import Directory
from bot.identity import BotIdentity
from bot.listeners.slack_text import typed_text
from bot.listeners.unit import first_input
from bot.logs import slack_logger
from bot.spool import EventSpool
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
    "files:write",  # /debrief export shares its file in the channel
    "groups:history",  # the same look in private channels
    "groups:read",  # users.conversations: private channels a person and the bot share
    "reactions:read",  # reaction_added / reaction_removed: applause
    "users:read",  # users.info: admins, time zones, deactivation, authors' names in exports
]


def installation_store(settings: Settings, db: Database) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(
        client_id=settings.client_id or "",
        engine=db.engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )


def build_app(
    settings: Settings,
    db: Database,
    *,
    client: WebClient,
    wake_outbox: Callable[..., None] = lambda paced_channel=None: None,
    background: Executor | None = None,
    directory: Directory | None = None,
    spool: EventSpool | None = None,
) -> App:
    """The Bolt app. Listeners run before the response (`process_before_response`) and
    only do fast local work; Slack calls go through the outbox or `background`."""
    background = background or ThreadPoolExecutor(4, thread_name_prefix="after-ack")
    if settings.oauth:
        app = App(
            signing_secret=settings.signing_secret,
            client=client,
            logger=slack_logger(),
            process_before_response=True,
            oauth_settings=OAuthSettings(
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                scopes=BOT_SCOPES,
                installation_store=installation_store(settings, db),
                state_store=SQLAlchemyOAuthStateStore(
                    expiration_seconds=600, engine=db.engine, table_name=OAUTH_STATES_TABLE
                ),
            ),
        )
    else:
        identity = BotIdentity(client)
        identity.learn()
        app = App(
            signing_secret=settings.signing_secret,
            # Token-less: Bolt gives each request a client with the token from authorize.
            client=WebClient(base_url=client.base_url, timeout=client.timeout),
            logger=slack_logger(),
            process_before_response=True,
            authorize=lambda enterprise_id, team_id: identity.authorize(enterprise_id, team_id),
        )

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
                                           directory=directory or Directory()))
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
