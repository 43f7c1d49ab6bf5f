"""`/debrief TEXT` that names no kind: the text is kept (a draft) and the answer offers to
log it as a win, an opportunity or a lesson, or to open the form with it.

Telling a typo from free text: ONE unknown word is a mistyped command (`/debrief lesosn`):
it gets the help, with a "did you mean" for a near-miss. More than one word is something
to log; when its first word is a near-miss of a command (`/debrief lesosn we should
test`), the answer asks "did you mean" too, beside the buttons."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.db.models import Kind
from bot.ids import LoopAction
from bot.listeners import Deps, Listeners
from bot.listeners.router import Router
from bot.listeners.slack_text import typed_text
from bot.listeners.unit import workspace
from bot.services import cards, drafts, entries, nearmiss
from bot.services.entries import EntryError, NewEntry
from bot.views.capture import DRAFT_KIND, draft_answer, prefilled
from bot.views.entries import entry_modal
from bot.views.text import safe


def unknown(router: Router, context: BoltContext, command: dict, word: str,
            args: str) -> dict:
    """The answer (ack's arguments) to `/debrief WORD …` when WORD is no command."""
    if not args.strip():
        return router.help_message(unknown=typed_text(word), channel_id=command["channel_id"])
    text = typed_text(command.get("text", "")).strip()
    try:
        draft = drafts.keep(context["db"], workspace(context),
                            command["user_id"], command["channel_id"], text)
    except EntryError as error:
        # Hand the text back so nothing the person wrote is lost.
        raise EntryError(f"{error}\nWhat you typed:\n```{safe(text)}```") from None
    close = nearmiss.closest(word, router.by_name)
    return draft_answer(draft.id, text, typed_text(word),
                        f"{close} {typed_text(args)}".strip() if close else None)


def _team(context: BoltContext, body: dict) -> str:
    return workspace(context)


def log_draft(ack: Ack, body: dict, context: BoltContext) -> None:
    """"Log as a win/opportunity/lesson": the kept text becomes that entry, at once."""
    ack()
    action = body["actions"][0]
    db, team_id, user_id = context["db"], _team(context, body), body["user"]["id"]
    value = str(action.get("value", ""))
    draft = drafts.take(db, team_id, user_id, int(value) if value.isdigit() else 0)
    kind: Kind = DRAFT_KIND[action["action_id"]]
    # Confirmed as the form's entries are (a button has no command answer to carry it),
    # with the related ones, and before anything else it queues.
    entries.log_entry(db, NewEntry(team_id=team_id, channel_id=draft.channel_id,
                                   author_id=user_id, kind=kind, text=draft.text), confirm=True)


def open_draft(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """"Open the form…": the Debrief form with the kept text in it."""
    ack()
    action = body["actions"][0]
    db, team_id, user_id = context["db"], _team(context, body), body["user"]["id"]
    value = str(action.get("value", ""))
    draft = drafts.peek(db, team_id, user_id, int(value) if value.isdigit() else 0)
    view = prefilled(entry_modal(draft.channel_id,
                                 cards=cards.open_cards(db, team_id, draft.channel_id)),
                     draft.text)
    deps: Deps = context["deps"]
    deps.after_ack(_open, client, body["trigger_id"], view)


def _open(client: WebClient, trigger_id: str, view: View) -> None:
    client.views_open(trigger_id=trigger_id, view=view.to_dict())


def register(app: Listeners, deps: Deps) -> None:
    for action in DRAFT_KIND:
        app.action(action, log_draft)
    app.action(LoopAction.DRAFT_FORM, open_draft)
