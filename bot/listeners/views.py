"""Modal submissions."""

from __future__ import annotations

import json

from slack_bolt import Ack, App, BoltContext

from bot.db.models import Kind, Visibility
from bot.ids import Action, Block, Callback
from bot.listeners import Deps
from bot.listeners.transaction import transactional
from bot.services import entries
from bot.services.entries import EntryError, NewEntry


def _value(values: dict, block: str, action: str) -> dict:
    return values.get(block, {}).get(action, {})


def submit_entry(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    values = view["state"]["values"]
    kind = (_value(values, Block.KIND, Action.KIND).get("selected_option") or {}).get("value")
    text = _value(values, Block.TEXT, Action.TEXT).get("value") or ""
    visibility = (_value(values, Block.VISIBILITY, Action.VISIBILITY)
                  .get("selected_option") or {}).get("value") or Visibility.TEAM
    anonymous = bool(_value(values, Block.ANONYMOUS, Action.ANONYMOUS).get("selected_options"))
    channel_id = json.loads(view.get("private_metadata") or "{}").get("channel_id")

    errors: dict[str, str] = {}
    if kind not in {k.value for k in Kind}:
        errors[Block.KIND] = "Choose win, opportunity or lesson."
    if visibility not in {v.value for v in Visibility}:
        errors[Block.VISIBILITY] = "Choose who can see it."
    if not channel_id:
        errors[Block.TEXT] = "Open the form with /debrief in a channel."
    try:
        entries.validate_text(text)
    except EntryError as error:
        errors[Block.TEXT] = str(error)
    if errors:
        # The modal stays open with everything the person typed.
        ack(response_action="errors", errors=errors)
        return

    db = context["db"]
    user_id = body["user"]["id"]
    team_id = context.team_id or body["user"]["team_id"]
    entries.log_entry(db, NewEntry(
        team_id=team_id, channel_id=channel_id, author_id=user_id, kind=Kind(kind),
        text=text, visibility=Visibility(visibility), anonymous=anonymous, source="modal",
    ), confirm=True)
    context["deps"].wake_outbox()
    ack()


def register(app: App, deps: Deps) -> None:
    app.view(Callback.ENTRY_MODAL)(transactional(deps)(submit_entry))
