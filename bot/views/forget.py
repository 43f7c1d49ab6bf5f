"""How forget-me looks: what will be erased, and what was."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.ids import HopeCallback
from bot.services.forget import Footprint


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _inventory(footprint: Footprint) -> str:
    return "\n".join([
        f"• {_plural(footprint.entries, 'entry', 'entries')}"
        + (f" ({footprint.messages} of them posted in channels: those messages are deleted)"
           if footprint.messages else ""),
        f"• {_plural(footprint.reflections, 'reflection', 'reflections')}",
        f"• applause you gave ({footprint.applause_given}) and received "
        f"({footprint.applause_received})",
        *([f"• {_plural(footprint.captured, 'learning', 'learnings')} others captured from "
           "your messages"] if footprint.captured else []),
    ])


def confirm(footprint: Footprint) -> View:
    """Asks before erasing: the submit button is the confirmation."""
    return View(
        type="modal", callback_id=HopeCallback.FORGET_ME, title="Forget me",
        submit="Erase everything", close="Keep it all",
        blocks=[SectionBlock(text=MarkdownTextObject(text=(
            ":warning: This erases everything you wrote in this workspace, for good:\n"
            + _inventory(footprint)
            + "\n\nIt cannot be undone.")))],
    )


def done(footprint: Footprint) -> View:
    return View(
        type="modal", callback_id=HopeCallback.NOTICE, title="Forgotten", close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=(
            ":wastebasket: Done. Erased:\n" + _inventory(footprint))))],
    )
