"""Deliverable cards: `/debrief card TITLE [@a @b]`, `/debrief close CARD`, and the card's
add buttons (its collaborators' buttons are in listeners/collaborators.py)."""

from __future__ import annotations

import re

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.db.models import CardStatus, Kind
from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call, open_modal
from bot.listeners.slack_text import trailing_mentions, typed_text
from bot.listeners.unit import workspace
from bot.services import cards, collaborators
from bot.services.cards import CardError
from bot.services.numbers import whole_number
from bot.views import collaborators as people_views
from bot.views.cards import KIND_FROM_ACTION
from bot.views.entries import entry_modal
from bot.views.text import safe


def open_card(call: Call) -> str:
    escaped, named = trailing_mentions(call.args)  # `card TITLE @a @b`: its collaborators
    title = typed_text(escaped)
    try:
        card, others = collaborators.open_card(
            call.db, team_id=call.team_id, channel_id=call.channel_id, user_id=call.user_id,
            title=title, named=named)
    except CardError as error:
        if len(title) > cards.MAX_TITLE:
            # Hand the title back so nothing the person wrote is lost.
            raise CardError(f"{error}\nWhat you typed:\n```{safe(title)}```") from None
        raise
    return people_views.opened(card, others)


def close_card(call: Call) -> str | dict:
    """Closes at once (its opener or an admin), unless collaborators have not added yet:
    then it asks first."""
    # Whether the caller is an admin, asked of Slack before the database is touched.
    person = call.deps.directory.person(call.client, call.team_id, call.user_id)
    result = collaborators.close(call.db, team_id=call.team_id, channel_id=call.channel_id,
                                 user_id=call.user_id, ref=typed_text(call.args),
                                 admin=person.admin)
    if isinstance(result, collaborators.NotYet):
        return people_views.close_prompt(result)
    return people_views.closed(result)


def add_from_card(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """A card's "Add win/opportunity/lesson" button: the Debrief modal, card and kind chosen."""
    ack()
    action = body["actions"][0]
    kind: Kind = KIND_FROM_ACTION[action["action_id"]]
    channel_id = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id", "")
    team_id = workspace(context)
    db = context["db"]
    value = str(action.get("value", ""))
    card_id = whole_number(value)
    card = cards.get_card(db, team_id, card_id) if card_id is not None else None
    if card is not None and channel_id.startswith("D"):
        # A nudge or an "ask them first" DM: the form is for the card's channel, where
        # the submission checks, with Slack, that the person may post.
        channel_id = card.channel_id
    elif card is not None and card.channel_id != channel_id:
        card = None  # the button names a card of another channel: no card
    # A card closed since its message was drawn: the form opens without it.
    card_id = card.id if card is not None and card.status == CardStatus.OPEN else None
    view = entry_modal(channel_id, kind, cards=cards.open_cards(db, team_id, channel_id),
                       card_id=card_id)
    deps: Deps = context["deps"]
    deps.after_ack(open_modal, client, body["trigger_id"], view)


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("card", usage="card TITLE [@a @b …]", summary="open a deliverable card "
                   "here, asking the people named for their debrief: entries for it gather "
                   "in its thread")(open_card)
    app.subcommand("close", usage="close CARD", summary="close a card (by ID or title) and "
                   "post what was learned on it; asks first if collaborators have not "
                   "added yet")(close_card)
    app.action(re.compile(r"^card_add_"), add_from_card)
