"""Modal submissions."""

from __future__ import annotations

import json

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.db.models import Kind, Source, Visibility
from bot.ids import Action, Block, Callback
from bot.listeners import Deps, Listeners
from bot.listeners.unit import workspace
from bot.services import access, capture, cards, checkback, entries
from bot.services.cards import CardError
from bot.services.entries import EntryError, NewEntry
from bot.services.errors import UserError
from bot.services.numbers import whole_number


def _value(values: dict, block: str, action: str) -> dict:
    return values.get(block, {}).get(action, {})


def submit_entry(ack: Ack, body: dict, view: dict, context: BoltContext,
                 client: WebClient) -> None:
    values = view["state"]["values"]
    kind = (_value(values, Block.KIND, Action.KIND).get("selected_option") or {}).get("value", "")
    text = _value(values, Block.TEXT, Action.TEXT).get("value") or ""
    visibility = (_value(values, Block.VISIBILITY, Action.VISIBILITY)
                  .get("selected_option") or {}).get("value") or Visibility.TEAM
    anonymous = bool(_value(values, Block.ANONYMOUS, Action.ANONYMOUS).get("selected_options"))
    metadata = json.loads(view.get("private_metadata") or "{}")
    # Opened in a channel, the form posts there; opened elsewhere, it asks where.
    channel_id: str = metadata.get("channel_id") or \
        _value(values, Block.POST_TO, Action.POST_TO).get("selected_conversation") or ""
    card_id = _chosen_card(values, metadata)

    errors: dict[str, str] = {}
    user_id = body["user"]["id"]
    team_id = workspace(context)
    if channel_id and (refused := still_in(context, client, team_id, user_id,
                                           str(channel_id))):
        errors[Block.TEXT] = refused  # the form stays open, their text in it
    if kind not in {k.value for k in Kind}:
        errors[Block.KIND] = "Choose win, opportunity or lesson."
    if visibility not in {v.value for v in Visibility}:
        errors[Block.VISIBILITY] = "Choose who can see it."
    if not channel_id:
        if Block.POST_TO in values:
            errors[Block.POST_TO] = "Choose the channel it is for."
        else:
            errors[Block.TEXT] = "Open the form with /debrief in a channel."
    try:
        entries.validate_text(text)
    except EntryError as error:
        errors[Block.TEXT] = str(error)
    db = context["db"]
    if card_id is not None and channel_id:
        try:
            cards.check_open(db, team_id, channel_id, card_id)
        except CardError as error:
            errors[Block.CARD if Block.CARD in values else Block.TEXT] = str(error)
    follows = metadata.get("checkback_id")
    if follows is not None and not errors:
        try:  # the opportunity it follows is still the person's and still open
            checkback.open_follow_up(db, team_id, user_id, int(follows))
        except UserError as error:
            errors[Block.TEXT] = str(error)
    if errors:
        # The modal stays open with everything the person typed.
        ack(response_action="errors", errors=errors)
        return

    captured = metadata.get("capture")
    entry = entries.log_entry(db, NewEntry(
        team_id=team_id, channel_id=channel_id, author_id=user_id, kind=Kind(kind),
        text=text, visibility=Visibility(visibility), anonymous=anonymous,
        source=Source.CAPTURE if captured else Source.MODAL, card_id=card_id,
    ), confirm=True, more=bool(captured or follows is not None))
    if captured:
        capture.record(db, entry, capture.Message(
            speaker_id=captured.get("speaker"), channel_id=captured.get("channel") or "",
            ts=captured.get("ts") or "", permalink=captured.get("permalink")))
    if follows is not None:
        checkback.learned(db, team_id, user_id, int(follows), entry)
    ack()


NOT_IN_CHANNEL = ("You are no longer in the channel this form was opened in, so nothing was "
                  "saved. Copy your text and log it where you are.")


def still_in(context: BoltContext, client: WebClient, team_id: str, user_id: str,
             channel_id: str) -> str | None:
    """Why the person may not post in the channel the form was opened in, as Slack says
    now (before the database is touched), or None when they may. One rule, the service's:
    when Slack does not answer, nothing is saved (the form keeps their text to try again)."""
    channels = context["deps"].directory.channels(client, team_id, user_id)
    try:
        access.require_in_channel(channels, channel_id, NOT_IN_CHANNEL)
    except UserError as error:
        return str(error) if channels is not None else f"{error} Your text is kept here."
    return None


def _chosen_card(values: dict, metadata: dict) -> int | None:
    """The card picked in the form; without a card field, the card it was opened from."""
    if Block.CARD in values:
        chosen = (_value(values, Block.CARD, Action.CARD).get("selected_option") or {})
        value = chosen.get("value")
    else:
        value = metadata.get("card_id")
    return whole_number(value) if value is not None else None


def register(app: Listeners, deps: Deps) -> None:
    app.view(Callback.ENTRY_MODAL, submit_entry)
