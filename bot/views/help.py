"""Help for /debrief and /hope: Block Kit with a button for each form, every command with
an example, a "did you mean" for a near miss, and the same as text (notifications, screen
readers, and clients that show no blocks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import COMMAND, Action, HopeAction
from bot.views.text import clip, safe

# One example per /debrief word (the first of its names), as a person would type it.
EXAMPLES = {
    "win": "lesson pin the base image before a release #docker",
    "delete": "delete 42",
    "help": "help",
    "card": "card Launch the new checkout",
    "close": "close 7",
    "export": "export md",
    "forget-me": "forget-me",
    "kudos": "kudos month",
    "rotation": "rotation schedule mon,wed,fri 09:30 Europe/Berlin lead 15",
    "settings": "settings",
    "digest": "digest #learnings weekly fri 16:00 Europe/Berlin",
    "search": "search rollback #deploy",
    "collaborators": "collaborators 7 add @ana @ben",
    "nudges": "nudges every 3 days",
    "ask": "ask migrating the billing database",
    "health": "health weekly mon 09:00 Europe/Berlin",
}


@dataclass(frozen=True)
class HelpLine:
    """One command in the help: how to type it, what it does, and an example."""

    command: str
    summary: str
    example: str | None = None


def example(word: str, command: str = COMMAND) -> str | None:
    """The example for `/debrief WORD`, if there is one."""
    found = EXAMPLES.get(word)
    return f"{command} {found}" if found else None


def usage(lines: Iterable[tuple[str, str]], unknown: str | None = None,
          suggestion: str | None = None) -> str:
    """The help answer as text; `unknown` is what the person typed, shown inert."""
    intro = _did_you_mean(unknown, suggestion)
    body = "\n".join(f"• `{command}` — {summary}" for command, summary in lines)
    title = "*Debrief* — log what you learn as you work:\n"
    return (intro + "\n\n" if intro else "") + title + body


def _did_you_mean(unknown: str | None, suggestion: str | None,
                  command: str = COMMAND) -> str:
    if unknown is None:
        return ""
    head = f"I don't know `{safe(clip(unknown, 100))}`."
    if suggestion:
        head += f" Did you mean `{command} {safe(clip(suggestion, 200))}`?"
    return head


def help_message(lines: Sequence[HelpLine], *, channel_id: str = "",
                 unknown: str | None = None, suggestion: str | None = None) -> dict:
    """/debrief's help: buttons for the Debrief form and the HOPE reflection, then every
    command with what it does and an example."""
    text = usage([(line.command, line.summary) for line in lines], unknown, suggestion)
    blocks = _head(_did_you_mean(unknown, suggestion),
                   "*Debrief* — log what you learn as you work. Start with a button, or "
                   "type one of the commands below.", channel_id)
    blocks += [_line(line) for line in lines]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Private reflection: `/hope` · `/hope help`. Your Home tab has these buttons "
             "too, with search and your history.")]))
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}


def hope_help_message(lines: Sequence[HelpLine], text: str, *, channel_id: str = "",
                      unknown: str | None = None, suggestion: str | None = None) -> dict:
    """/hope's help, like /debrief's; `text` is its plain-text version."""
    blocks = _head(_did_you_mean(unknown, suggestion, "/hope"),
                   "*HOPE* — a short, private look back. Only you can ever read your "
                   "reflections.", channel_id)
    blocks += [_line(line) for line in lines]
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}


def _head(did_you_mean: str, title: str, channel_id: str) -> list[Block]:
    blocks: list[Block] = []
    if did_you_mean:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=did_you_mean, verbatim=True)))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=title)))
    blocks.append(ActionsBlock(elements=form_buttons(channel_id)))
    blocks.append(DividerBlock())
    return blocks


def form_buttons(channel_id: str = "") -> list[ButtonElement]:
    """Log a learning (the Debrief form, for `channel_id` when there is one) and Reflect."""
    return [
        ButtonElement(text="Log a learning", action_id=Action.OPEN_ENTRY_MODAL,
                      value=channel_id or None, style="primary"),
        ButtonElement(text="Reflect with /hope", action_id=HopeAction.OPEN),
    ]


def _line(line: HelpLine) -> SectionBlock:
    text = f"`{line.command}`\n{line.summary}"
    if line.example:
        text += f"\n_e.g._ `{line.example}`"
    return SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)))
