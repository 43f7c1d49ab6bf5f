"""/debrief: a router over subcommands. Each handler parses, calls a service, renders."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot.ids import COMMAND
from bot.listeners import Deps
from bot.listeners.slack_text import typed_text
from bot.listeners.transaction import transactional
from bot.services import cards, entries
from bot.services.entries import EntryError, NewEntry
from bot.services.errors import UserError
from bot.views import help as help_view
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
    # Bolt's client for this workspace: only for work handed to `deps.background`.
    client: WebClient
    deps: Deps

    def wake_outbox(self, paced_channel: str | None = None) -> None:
        self.deps.wake_outbox(paced_channel=paced_channel)


# A handler returns the ephemeral answer, or None to answer with nothing (a modal is
# being opened in the background, say).
Handler = Callable[[Call], str | None]


@dataclass(frozen=True)
class Subcommand:
    names: tuple[str, ...]
    usage: str
    summary: str
    handler: Handler


SUBCOMMANDS: dict[str, Subcommand] = {}
_ORDER: list[Subcommand] = []


def subcommand(*names: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        sub = Subcommand(names, usage, summary, handler)
        _ORDER.append(sub)
        for name in names:
            SUBCOMMANDS[name] = sub
        return handler

    return decorate


_SPLIT = re.compile(r"\s*(\S+)\s*(.*)", re.DOTALL)


def split(text: str) -> tuple[str, str]:
    """First word (lower-cased) and the rest exactly as typed."""
    match = _SPLIT.fullmatch(text or "")
    if match is None:
        return "", ""
    return match.group(1).lower(), match.group(2)


def help_text(unknown: str | None = None, args: str = "") -> str:
    suggestion = None
    if unknown:
        close = difflib.get_close_matches(unknown.lower(), list(SUBCOMMANDS), n=1, cutoff=0.6)
        suggestion = f"{close[0]} {args}".strip() if close else None
    lines = [("/debrief", "open the Debrief form")]
    lines += [(f"/debrief {sub.usage}", sub.summary) for sub in _ORDER]
    return help_view.usage(lines, unknown=unknown, suggestion=suggestion)


@subcommand("win", "opportunity", "opp", "lesson",
            usage="win|opportunity|lesson TEXT",
            summary="log it at once, visible to this channel (`opp` works too)")
def log_inline(call: Call) -> str:
    text = typed_text(call.args)
    try:
        entry = entries.log_now(call.deps.database.direct, call.db, NewEntry(
            team_id=call.team_id, channel_id=call.channel_id, author_id=call.user_id,
            kind=entries.KIND_ALIASES[call.word], text=text,
        ))
    except EntryError as error:
        if not call.args.strip():
            raise EntryError(f"{error} Try `/debrief {call.word} shipped the release`.") from None
        # Hand the text back so nothing the person wrote is lost.
        raise EntryError(f"{error}\nWhat you typed:\n```{safe(text)}```") from None
    call.wake_outbox(paced_channel=entry.channel_id if entries.only_paced(entry) else None)
    return confirmation(entry)


@subcommand("delete", usage="delete ID", summary="delete one of your own entries")
def delete(call: Call) -> str:
    raw = call.args.strip().lstrip("#")
    if not raw.isdigit():
        raise EntryError("Which entry? Give its ID: `/debrief delete 42`.")
    entries.delete_entry(call.db, call.team_id, call.user_id, int(raw))
    call.wake_outbox()
    return f":wastebasket: Deleted entry {int(raw)}."


@subcommand("help", usage="help", summary="this list")
def show_help(call: Call) -> str:
    return help_text()


def open_modal(client: WebClient, trigger_id: str, view: View) -> None:
    client.views_open(trigger_id=trigger_id, view=view.to_dict())


def handle(ack: Ack, command: dict, context: BoltContext, client: WebClient) -> None:
    word, args = split(command.get("text", ""))
    deps: Deps = context["deps"]
    if not word:
        ack()
        team_id = context.team_id or command["team_id"]
        view = entry_modal(command["channel_id"], cards=cards.open_cards(
            context["db"], team_id, command["channel_id"]))
        # After the ack, off the request thread: the trigger_id is good for 3 s.
        deps.after_ack(open_modal, client, command["trigger_id"], view)
        return
    sub = SUBCOMMANDS.get(word)
    if sub is None:
        ack(text=help_text(unknown=typed_text(word), args=typed_text(args)))
        return
    call = Call(
        db=context["db"], team_id=context.team_id or command["team_id"],
        user_id=command["user_id"], channel_id=command["channel_id"],
        word=word, args=args, trigger_id=command.get("trigger_id", ""), client=client,
        deps=deps,
    )
    try:
        answer = sub.handler(call)
        ack(text=answer) if answer else ack()
    except UserError as error:
        ack(text=f":warning: {error}")


def register(app: App, deps: Deps) -> None:
    app.command(COMMAND)(transactional(deps)(handle))
