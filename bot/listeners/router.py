"""`/debrief WORD …`: which handler a word goes to, and the help listing them all."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.services import nearmiss
from bot.views import help as help_view

if TYPE_CHECKING:
    from bot.listeners.commands import Call

# A handler returns the ephemeral answer (text, or a message with blocks and its text),
# or None to answer with nothing (a modal is being opened in the background, say).
Handler = Callable[["Call"], "str | dict | None"]


@dataclass(frozen=True)
class Subcommand:
    names: tuple[str, ...]
    usage: str
    summary: str
    handler: Handler


class Router:
    """The subcommands, in the order they were added (the help lists them so)."""

    def __init__(self) -> None:
        self.by_name: dict[str, Subcommand] = {}
        self.ordered: list[Subcommand] = []

    def add(self, *names: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            sub = Subcommand(names, usage, summary, handler)
            self.ordered.append(sub)
            for name in names:
                self.by_name[name] = sub
            return handler

        return decorate

    def get(self, word: str) -> Subcommand | None:
        return self.by_name.get(word)

    def help_text(self, unknown: str | None = None, args: str = "") -> str:
        """Usage of every subcommand; for an `unknown` word, a "did you mean"."""
        return self.help_message(unknown, args)["text"]

    def help_message(self, unknown: str | None = None, args: str = "",
                     channel_id: str = "") -> dict:
        """The help as Block Kit (with its text for notifications and screen readers):
        every subcommand with an example, buttons that open the forms, and for an
        `unknown` word a "did you mean"."""
        suggestion = None
        if unknown:
            close = nearmiss.closest(unknown, self.by_name)
            suggestion = f"{close} {args}".strip() if close else None
        lines = [help_view.HelpLine("/debrief", "open the Debrief form", "/debrief")]
        lines += [help_view.HelpLine(f"/debrief {sub.usage}", sub.summary,
                                     help_view.example(sub.names[0]))
                  for sub in self.ordered]
        return help_view.help_message(lines, channel_id=channel_id, unknown=unknown,
                                      suggestion=suggestion)


_SPLIT = re.compile(r"\s*(\S+)\s*(.*)", re.DOTALL)


def split(text: str) -> tuple[str, str]:
    """First word (lower-cased) and the rest exactly as typed."""
    match = _SPLIT.fullmatch(text or "")
    if match is None:
        return "", ""
    return match.group(1).lower(), match.group(2)
