"""An entry message's menu (edit, delete), and the forms it opens.

Slack shows the menu to everyone who sees the message: who may use it is checked when it
is pressed, and again when the form is submitted. Anyone else is told the same thing
whoever wrote the entry, so an anonymous entry's menu gives its author away to nobody.
"""

from __future__ import annotations

import json

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.ids import Action, Block, Callback
from bot.listeners import Deps, Listeners
from bot.listeners.unit import workspace
from bot.services import entries
from bot.services.entries import EntryError
from bot.services.errors import UserError
from bot.views import entry_edit
from bot.views.entries import MENU_DELETE, MENU_EDIT


def _team(context: BoltContext, body: dict) -> str:
    return workspace(context)


def open_view(client: WebClient, trigger_id: str, view: dict) -> None:
    client.views_open(trigger_id=trigger_id, view=view)


def on_menu(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """Edit or Delete pressed: the author gets the form; anyone else a message only they
    see (listeners/unit.py shows a UserError so)."""
    ack()
    value = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    verb, _, raw = value.partition(":")
    entry = entries.get_entry(context["db"], _team(context, body), int(raw)) \
        if raw.isdigit() else None
    if entry is None:
        raise UserError(entry_edit.GONE)
    if entry.author_id != body["user"]["id"]:
        raise UserError(entry_edit.NOT_YOURS)
    view = entry_edit.edit_modal(entry) if verb == MENU_EDIT else \
        entry_edit.delete_modal(entry) if verb == MENU_DELETE else None
    if view is not None:
        context["deps"].after_ack(open_view, client, body["trigger_id"], view.to_dict())


def _entry_id(view: dict) -> int:
    return int(json.loads(view.get("private_metadata") or "{}").get("entry_id") or 0)


def submit_edit(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """Saved: the new text, checked like any entry's. A refusal keeps the form open with
    the text as typed (listeners/unit.py puts the error on its field)."""
    text = (view["state"]["values"].get(Block.TEXT, {}).get(Action.TEXT, {})
            .get("value") or "")
    entry = entries.edit_entry(context["db"], _team(context, body), body["user"]["id"],
                               _entry_id(view), text)
    ack(response_action="update", view=entry_edit.edited(entry).to_dict())


def submit_delete(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    entry_id = _entry_id(view)
    try:
        entries.delete_entry(context["db"], _team(context, body), body["user"]["id"],
                             entry_id)
    except EntryError:
        # Deleted meanwhile (another tab, `/debrief delete`): nothing left to do.
        ack(response_action="update",
            view=entry_edit.notice("Entry deleted", entry_edit.GONE).to_dict())
        return
    ack(response_action="update", view=entry_edit.deleted(entry_id).to_dict())


def register(app: Listeners, deps: Deps) -> None:
    app.action(Action.ENTRY_MENU, on_menu)
    app.view(Callback.ENTRY_EDIT, submit_edit)
    app.view(Callback.ENTRY_DELETE, submit_delete)
