"""Capturing a learning where it happens: the message shortcut's and the global
shortcut's forms (the Debrief form, with the message quoted or a channel to pick), the
speaker's DM, the capture line on an entry's message, and `/debrief TEXT` without a kind."""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.views import View

from bot.db.models import Card, Entry, Kind
from bot.ids import Block, LoopAction, LoopBlock
from bot.services.capture import ANONYMOUS, KEEP_NAME, REMOVE, Credit
from bot.services.entries import MAX_TEXT
from bot.views.entries import KIND_LABEL, entry_modal, entry_modal_anywhere
from bot.views.text import clip, safe

QUOTE = 600


def prefilled(view: View, text: str) -> View:
    """The form with "What happened?" filled in (Slack refuses an initial value longer
    than the field allows: a longer text is cut, and the person sees where)."""
    for block in view.blocks or []:
        if isinstance(block, InputBlock) and block.block_id == Block.TEXT:
            block.element.initial_value = clip(text, MAX_TEXT) or None  # type: ignore[union-attr]
    return view


def _with(view: View, *, before: Sequence[SlackBlock] = (), metadata: dict | None = None) -> View:
    view.blocks = [*before, *(view.blocks or [])]
    if metadata is not None:
        view.private_metadata = json.dumps(metadata)
    return view


def log_modal() -> View:
    """The global shortcut "Log a learning": the Debrief form, asking which channel first."""
    return entry_modal_anywhere()


def capture_modal(*, channel_id: str | None, text: str, speaker_id: str | None, ts: str,
                  message_channel: str, cards: Sequence[Card] = (),
                  permalink: str | None = None) -> View:
    """The message shortcut "Capture as a learning": the Debrief form with the message
    quoted, its text in "What happened?", and a link to it. `channel_id` None (a direct
    message): a channel to post it in is picked."""
    # A direct message: the form asks which channel it is for, as when opened elsewhere.
    view = prefilled(entry_modal(channel_id, cards=cards) if channel_id
                     else entry_modal_anywhere(), text)
    who = f"<@{speaker_id}>" if speaker_id else "an app"
    where = f" in <#{message_channel}>" if channel_id else ""
    link = f" · <{permalink}|open the message>" if permalink else ""
    quote = "\n".join(f"> {line}" for line in safe(clip(text, QUOTE)).splitlines()) or "> …"
    context = (f"Said by {who}{where}{link}. You will be its author; "
               + ("they are named only if they agree (I'll ask them)." if speaker_id else
                  "edit it into what the team learned."))
    metadata = {"channel_id": channel_id or "", "capture": {
        "speaker": speaker_id, "channel": message_channel, "ts": ts, "permalink": permalink}}
    return _with(view, metadata=metadata, before=[
        SectionBlock(block_id=LoopBlock.QUOTE,
                     text=MarkdownTextObject(text=quote, verbatim=True)),
        ContextBlock(elements=[MarkdownTextObject(text=context)]),
    ])


def credit_block(credit: Credit) -> ContextBlock:
    """The line an entry's message carries when it was captured from a message."""
    link = f" · <{credit.permalink}|the message>" if credit.permalink else ""
    if credit.speaker_id:
        text = f":speech_balloon: From a message by <@{credit.speaker_id}>{link}"
    elif credit.permalink:
        text = f":speech_balloon: Captured from a message{link}"
    else:
        text = ":speech_balloon: Captured from a teammate's message"
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def with_credit(message: dict, credit: Credit | None) -> dict:
    """An entry's message (views.entries.entry_message) with its capture line, above the
    footer."""
    if credit is None:
        return message
    blocks = list(message.get("blocks") or [])
    blocks.insert(max(len(blocks) - 1, 0), credit_block(credit).to_dict())
    return {**message, "blocks": blocks}


_CHOICE_LABEL = {KEEP_NAME: "Keep my name on it", ANONYMOUS: "Make it anonymous",
                 REMOVE: "Remove it"}
_CHOICE_DONE = {
    KEEP_NAME: ":white_check_mark: Your name is on it, with a link to your message.",
    ANONYMOUS: ":white_check_mark: It stays anonymous: your name is never shown with it.",
    REMOVE: ":wastebasket: Removed, with its message; whoever captured it is told.",
}


def _speaker_buttons(capture_id: int, skip: str | None = None) -> ActionsBlock:
    actions = {KEEP_NAME: LoopAction.CAPTURE_NAMED, ANONYMOUS: LoopAction.CAPTURE_ANONYMOUS,
               REMOVE: LoopAction.CAPTURE_REMOVE}
    buttons = []
    for choice, action in actions.items():
        if choice == skip:
            continue
        button = ButtonElement(action_id=action, value=str(capture_id),
                               text=_CHOICE_LABEL[choice],
                               style="primary" if choice == KEEP_NAME else None)
        if choice == REMOVE:
            button.confirm = ConfirmObject(
                title="Remove it?", confirm="Remove", deny="Keep it",
                text="The learning and its message are deleted for good.")
        buttons.append(button)
    return ActionsBlock(elements=buttons)


def speaker_dm(entry: Entry, capture_id: int, capturer_named: bool) -> dict:
    """Asks the speaker whether they may be named beside what was captured from them."""
    who = f"<@{entry.author_id}>" if capturer_named else "A teammate (anonymously)"
    kind = KIND_LABEL[Kind(entry.kind)].lower()
    text = (f"{who} captured your message as {'an' if kind[0] in 'aeiou' else 'a'} {kind} "
            f"in <#{entry.channel_id}>. It is shown without your name until you say so.")
    blocks: list[SlackBlock] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        SectionBlock(text=MarkdownTextObject(text="\n".join(
            f"> {line}" for line in safe(clip(entry.text, 2500)).splitlines()) or "> …",
            verbatim=True)),
        _speaker_buttons(capture_id),
    ]
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def speaker_answered(choice: str, capture_id: int) -> dict:
    """The speaker's DM once answered: what they chose; the other choices stay."""
    text = _CHOICE_DONE.get(choice, "Noted.")
    blocks: list[SlackBlock] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if choice != REMOVE:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Changed your mind?")]))
        blocks.append(_speaker_buttons(capture_id, skip=choice))
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


# --- `/debrief TEXT` without a kind ---

_DRAFT_BUTTONS = ((LoopAction.DRAFT_WIN, Kind.WIN), (LoopAction.DRAFT_OPPORTUNITY,
                  Kind.OPPORTUNITY), (LoopAction.DRAFT_LESSON, Kind.LESSON))
DRAFT_KIND = {str(action): kind for action, kind in _DRAFT_BUTTONS}


def draft_answer(draft_id: int, text: str, unknown: str, suggestion: str | None = None) -> dict:
    """The answer to `/debrief TEXT` that names no kind: the text kept, and buttons to log
    it. `suggestion`: for `unknown`, a near-miss of a subcommand word, as "did you mean"."""
    head = (f"I don't know `{safe(clip(unknown, 100))}`. Did you mean "
            f"`/debrief {safe(clip(suggestion, 200))}`? Or log") if suggestion else "Log"
    intro = f"{head} what you typed as a win, an opportunity or a lesson:"
    quoted = "\n".join(f"> {line}" for line in safe(clip(text, 2500)).splitlines()) or "> …"
    buttons = [ButtonElement(action_id=action, value=str(draft_id),
                             text=f"Log as {'an' if kind == Kind.OPPORTUNITY else 'a'} "
                                  f"{KIND_LABEL[kind].lower()}")
               for action, kind in _DRAFT_BUTTONS]
    buttons.append(ButtonElement(action_id=LoopAction.DRAFT_FORM, value=str(draft_id),
                                 text="Open the form…"))
    blocks: list[SlackBlock] = [
        SectionBlock(text=MarkdownTextObject(text=intro, verbatim=True)),
        SectionBlock(text=MarkdownTextObject(text=quoted, verbatim=True)),
        ActionsBlock(elements=buttons),
        ContextBlock(elements=[MarkdownTextObject(text=DRAFT_HINT)]),
    ]
    return {"text": f"{intro}\n{quoted}\n{DRAFT_HINT}", "blocks": [b.to_dict() for b in blocks]}


DRAFT_HINT = ("Team-visible, posted in this channel. Next time "
              "`/debrief win|opportunity|lesson TEXT` logs it in one go; "
              "`/debrief help` lists every command.")
