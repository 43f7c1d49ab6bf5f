"""`/debrief WORD …`: which handler a word goes to, and the help listing them all."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.views import help as help_view

if TYPE_CHECKING:
    from bot.listeners.commands import Call

# A handler returns the ephemeral answer (text, or a message with "text" and "blocks"),
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
        suggestion = None
        if unknown:
            close = difflib.get_close_matches(unknown.lower(), list(self.by_name), n=1,
                                              cutoff=0.6)
            suggestion = f"{close[0]} {args}".strip() if close else None
        lines = [("/debrief", "open the Debrief form")]
        lines += [(f"/debrief {sub.usage}", sub.summary) for sub in self.ordered]
        return help_view.usage(lines, unknown=unknown, suggestion=suggestion)


_SPLIT = re.compile(r"\s*(\S+)\s*(.*)", re.DOTALL)


def split(text: str) -> tuple[str, str]:
    """First word (lower-cased) and the rest exactly as typed."""
    match = _SPLIT.fullmatch(text or "")
    if match is None:
        return "", ""
    return match.group(1).lower(), match.group(2)
