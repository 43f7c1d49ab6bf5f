"""`/debrief ask TEXT`: the look back on demand, before starting work. The ack says it is
looking; the answer (lessons, people, docs) follows through the command's response_url,
for the caller alone. Nothing is stored: not the question, not the answer.

Also the look back's "Message" buttons: they link to a DM, and Slack still tells the app
they were pressed; that is acknowledged and nothing more."""

from __future__ import annotations

import logging

from slack_bolt import Ack
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.db import Database
from bot.ids import Action
from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.listeners.search import viewer as reader
from bot.listeners.slack_text import typed_text
from bot.services import lookback
from bot.services.search import Viewer
from bot.views.lookback import FAILED, LOOKING, ask_answer

log = logging.getLogger(__name__)


def ask(call: Call) -> str:
    text = typed_text(call.args)
    lookback.ask_words(text)  # nothing to look for: said now, in the ack
    # What the caller may read, as Slack says now (kept a minute, bot/directory.py).
    call.deps.after_ack(answer, call.deps.database, reader(call), text, call.response_url)
    return LOOKING


def answer(database: Database, viewer: Viewer, text: str, response_url: str) -> None:
    """Look back for `text` as `viewer` may read, and answer through `response_url`."""
    try:
        database.index_pending()  # SQLite: what was just logged is found too
        with database.session() as db:  # read only: closed without a commit
            message = ask_answer(lookback.ask(db, viewer, text), text, viewer.user_id,
                                 viewer.team_id)
    except Exception:
        log.exception("/debrief ask: the look back failed")  # never the text asked
        message = {"text": FAILED}
    # Sleeps between retries are fine here: this runs after the ack, off the request.
    webhook = WebhookClient(response_url, timeout=10, retry_handlers=[
        ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2)])
    response = webhook.send_dict({"response_type": "ephemeral", "replace_original": False,
                                  **message})
    if response.status_code != 200:
        log.warning("/debrief ask: Slack answered %s to the response_url",
                    response.status_code)


def pressed_message(ack: Ack) -> None:
    ack()  # the button is a link: Slack opens the DM itself


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("ask", usage="ask TEXT", summary="before you start: lessons, people and "
                   "docs about it, for your eyes only (nothing is stored)")(ask)
    app.action(Action.LOOKBACK_DM, pressed_message)
