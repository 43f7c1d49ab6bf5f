"""/debrief: the slash command, routed by its first word (listeners/router.py). Each
handler parses, calls a service, renders."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot.ids import COMMAND
from bot.listeners import Listeners, drafts
from bot.listeners.deps import Deps
from bot.listeners.router import Router, split
from bot.listeners.slack_text import typed_text
from bot.listeners.unit import Listener, workspace
from bot.services import cards, entries
from bot.services.access import Person
from bot.services.entries import EntryError, NewEntry
from bot.services.numbers import whole_number
from bot.views.entries import confirmation, entry_modal
from bot.views.text import safe


@dataclass(frozen=True)
class Call:
    """One /debrief invocation, as the handlers see it."""

    db: Session
    team_id: str
    user_id: str
    channel_id: str
    word: str
    args: str
    trigger_id: str
    # Bolt's client for this workspace: only for work handed to `deps.after_ack`.
    client: WebClient
    deps: Deps
    router: Router
    # Slack's account of the caller, when a handler asked for it (listeners/rotation.py).
    person: Person | None = None
    # Where Slack takes a late answer to this command (for work after the ack).
    response_url: str = ""


def log_inline(call: Call) -> str:
    text = typed_text(call.args)
    try:
        entry = entries.log_entry(call.db, NewEntry(
            team_id=call.team_id, channel_id=call.channel_id, author_id=call.user_id,
            kind=entries.KIND_ALIASES[call.word], text=text,
        ))
    except EntryError as error:
        if not call.args.strip():
            raise EntryError(f"{error} Try `/debrief {call.word} shipped the release`.") from None
        # Hand the text back so nothing the person wrote is lost.
        raise EntryError(f"{error}\nWhat you typed:\n```{safe(text)}```") from None
    return confirmation(entry)


def delete(call: Call) -> str:
    entry_id = whole_number(call.args.strip().lstrip("#"))
    if entry_id is None:
        raise EntryError("Which entry? Give its ID as plain digits: `/debrief delete 42`.")
    entries.delete_entry(call.db, call.team_id, call.user_id, entry_id)
    return f":wastebasket: Deleted entry {entry_id}."


def show_help(call: Call) -> dict:
    return call.router.help_message(channel_id=call.channel_id)


def open_modal(client: WebClient, trigger_id: str, view: View) -> None:
    client.views_open(trigger_id=trigger_id, view=view.to_dict())


def handler(router: Router) -> Listener:
    """The /debrief listener over `router`'s subcommands."""

    def handle(ack: Ack, command: dict, context: BoltContext, client: WebClient) -> None:
        word, args = split(command.get("text", ""))
        deps: Deps = context["deps"]
        team_id = workspace(context)
        if not word:
            ack()
            view = entry_modal(command["channel_id"], cards=cards.open_cards(
                context["db"], team_id, command["channel_id"]))
            # After the ack, off the request thread: the trigger_id is good for 3 s.
            deps.after_ack(open_modal, client, command["trigger_id"], view)
            return
        sub = router.get(word)
        if sub is None:
            # One unknown word: the help; more: text to log (listeners/drafts.py).
            ack(**drafts.unknown(router, context, command, word, args))
            return
        answer = sub.handler(Call(
            db=context["db"], team_id=team_id, user_id=command["user_id"],
            channel_id=command["channel_id"], word=word, args=args,
            trigger_id=command.get("trigger_id", ""), client=client, deps=deps,
            router=router, response_url=command.get("response_url", ""),
        ))
        if isinstance(answer, dict):
            ack(**answer)  # a message with blocks, and its text
        else:
            ack(text=answer) if answer else ack()

    return handle


def register(app: Listeners, deps: Deps) -> None:
    app.command(COMMAND, handler(app.router))
    app.subcommand("win", "opportunity", "opp", "lesson", usage="win|opportunity|lesson TEXT",
                   summary="log it at once, visible to this channel (`opp` works too)")(
        log_inline)
    app.subcommand("delete", usage="delete ID", summary="delete one of your own entries")(delete)
    app.subcommand("help", usage="help", summary="this list")(show_help)
