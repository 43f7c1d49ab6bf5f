"""Editing and deleting an entry from its message's menu: the two forms, and what the
person who pressed is told."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.db.models import Entry, Kind
from bot.ids import Action, Block, Callback
from bot.services.entries import MAX_TEXT
from bot.views.entries import KIND_EMOJI, KIND_LABEL
from bot.views.text import clip

# To anyone but the author: the same words whoever wrote it, named or anonymous.
NOT_YOURS = ("Only the person who wrote an entry can edit or delete it. To respond "
             "to it, react with an emoji or reply in its thread.")
GONE = "That entry is not there any more."


def _kind(entry: Entry) -> str:
    kind = Kind(entry.kind)
    return f"{KIND_EMOJI[kind]} {KIND_LABEL[kind]}"


def edit_modal(entry: Entry) -> View:
    """The entry's text, to change; everything else about it stays."""
    return View(
        type="modal", callback_id=Callback.ENTRY_EDIT, title="Edit entry", submit="Save",
        close="Cancel", private_metadata=json.dumps({"entry_id": entry.id}),
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=(
                f"{_kind(entry)} · ID {entry.id} · its message keeps its applause; "
                "#tags follow the new text."))]),
            InputBlock(block_id=Block.TEXT, label="What happened?", element=(
                PlainTextInputElement(action_id=Action.TEXT, multiline=True,
                                      max_length=MAX_TEXT, initial_value=entry.text))),
        ],
    )


def delete_modal(entry: Entry) -> View:
    """Are you sure? The entry, and what deleting it takes along."""
    return View(
        type="modal", callback_id=Callback.ENTRY_DELETE, title="Delete entry",
        submit="Delete", close="Keep it", private_metadata=json.dumps({"entry_id": entry.id}),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=(
                f"Delete this {KIND_LABEL[Kind(entry.kind)].lower()} (ID {entry.id})? Its "
                "message leaves the channel, with the applause on it. This cannot be "
                "undone."))),
            # Plain text: shown as typed, it can never ping or link.
            SectionBlock(text=PlainTextObject(text=clip(entry.text, 500), emoji=False)),
        ],
    )


def notice(title: str, text: str) -> View:
    """A form that only tells something."""
    return View(type="modal", title=title, close="Close",
                blocks=[SectionBlock(text=MarkdownTextObject(text=text))])


def edited(entry: Entry) -> View:
    return notice("Entry saved", (
        f":white_check_mark: Entry {entry.id} is saved. Its message shows the new text in "
        "a moment, with all its applause."))


def deleted(entry_id: int) -> View:
    return notice("Entry deleted", f":wastebasket: Deleted entry {entry_id} and its message.")
