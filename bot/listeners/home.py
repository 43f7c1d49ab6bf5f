"""Buttons that open the forms (in help and on the App Home), search from the Home, and
paging the Home. Opening a form needs Slack within the trigger's 3 seconds: it happens
right after the ack (`deps.after_ack`); a page of the Home goes through the outbox."""

from __future__ import annotations

import re

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.ids import Action, Block, Callback
from bot.listeners import Deps, Listeners
from bot.listeners.unit import workspace
from bot.services import cards, home
from bot.services import search as search_service
from bot.services.search import Viewer
from bot.views.entries import entry_modal, entry_modal_anywhere
from bot.views.search import search_modal


def _team(context: BoltContext, body: dict) -> str:
    return workspace(context)


def open_view(client: WebClient, trigger_id: str, view: dict) -> None:
    client.views_open(trigger_id=trigger_id, view=view)


def on_open_entry(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """"Log a learning": the Debrief form for the channel the button was in (help), or
    asking which channel (the App Home)."""
    ack()
    channel_id = body["actions"][0].get("value") or \
        (body.get("channel") or {}).get("id") or ""
    if channel_id:
        view = entry_modal(channel_id, cards=cards.open_cards(
            context["db"], _team(context, body), channel_id))
    else:
        view = entry_modal_anywhere()
    context["deps"].after_ack(open_view, client, body["trigger_id"], view.to_dict())


def on_open_search(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    ack()
    context["deps"].after_ack(open_view, client, body["trigger_id"], search_modal().to_dict())


def submit_search(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """The best matches, shown in the form under the query. No channel here: what the
    person may see is decided as for `/debrief search` (bot/services/search.py)."""
    query = (view["state"]["values"].get(Block.SEARCH, {}).get(Action.SEARCH, {})
             .get("value") or "")
    user_id = body["user"]["id"]
    # A query without searchable words is a UserError: shown on the field, as typed.
    hits = search_service.search(context["db"], Viewer(_team(context, body), user_id, ""),
                                 query)
    ack(response_action="update", view=search_modal(query, hits, user_id).to_dict())


def on_page(ack: Ack, body: dict, context: BoltContext) -> None:
    """"My history", "Older ›", "‹ Newer", "Back to Home": publish the presser's own Home
    at that page (only ever theirs: the page is published for who pressed)."""
    ack()
    value = body["actions"][0].get("value") or "0"
    home.queue_publish(context["db"], _team(context, body), body["user"]["id"],
                       page=int(value) if value.isdigit() else 0)


def register(app: Listeners, deps: Deps) -> None:
    app.action(Action.OPEN_ENTRY_MODAL, on_open_entry)
    app.action(Action.OPEN_SEARCH, on_open_search)
    app.view(Callback.SEARCH_MODAL, submit_search)
    app.action(re.compile(f"^{Action.HOME_PAGE}_"), on_page)
