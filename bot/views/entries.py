"""How an entry looks: the channel message, the confirmation, the modal."""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.db.models import Card, Entry, Kind, StoredEntry, Visibility
from bot.ids import Action, Block, Callback
from bot.services.entries import MAX_TEXT
from bot.views.text import clip, fits, safe, safe_pieces

KIND_LABEL = {Kind.WIN: "Win", Kind.OPPORTUNITY: "Opportunity", Kind.LESSON: "Lesson"}
KIND_EMOJI = {Kind.WIN: ":trophy:", Kind.OPPORTUNITY: ":seedling:", Kind.LESSON: ":bulb:"}
VISIBILITY_LABEL = {
    Visibility.TEAM: "Team: posted in this channel",
    Visibility.PRIVATE: "Private: only you",
    Visibility.ORG: "Organisation: this channel and the org digest",
}


def byline(entry: Entry) -> str:
    kind = Kind(entry.kind)
    who = "a teammate, anonymously" if entry.anonymous else f"<@{entry.author_id}>"
    return f"{KIND_EMOJI[kind]} *{KIND_LABEL[kind]}* from {who}"


def entry_message(entry: Entry, card_title: str | None = None) -> dict:
    """The bot's channel message for a team- or org-visible entry: where applause lands.
    All of the text, in as many sections as it takes once escaped; text that escapes past
    what a message's blocks hold is the message's own text instead (Slack takes 40,000
    characters there)."""
    kind = Kind(entry.kind)
    footer = [f"ID {entry.id}"]
    if card_title is not None:
        footer.append(f":card_index: {safe(card_title)}")
    if entry.tag_names:
        footer.append(" ".join(f"`#{safe(tag)}`" for tag in entry.tag_names))
    footer.append("react with any emoji to applaud")
    blocks: list[SlackBlock] = [
        SectionBlock(text=MarkdownTextObject(text=byline(entry)), accessory=entry_menu(entry)),
        *[SectionBlock(text=MarkdownTextObject(text=piece, verbatim=True))
          for piece in safe_pieces(entry.text)],
        # Verbatim: its card title and tags are people's words too.
        ContextBlock(elements=[MarkdownTextObject(text=" · ".join(footer), verbatim=True)]),
    ]
    who = "A teammate" if entry.anonymous else f"<@{entry.author_id}>"
    fallback = f"{KIND_LABEL[kind]} from {who}: {safe(entry.text)}"
    rendered = [b.to_dict() for b in blocks]
    if fits(rendered):
        return {"text": fallback, "blocks": rendered}
    return {"text": "\n".join([byline(entry), safe(entry.text), " · ".join(footer)])}


MENU_EDIT, MENU_DELETE = "edit", "delete"


def entry_menu(entry: Entry) -> OverflowMenuElement:
    """The ⋯ menu on an entry's message: edit, delete. Every entry's message has the same
    one (Slack shows it to everyone): who may use it is checked when it is pressed, so
    an anonymous entry's menu tells nobody who wrote it."""
    return OverflowMenuElement(action_id=Action.ENTRY_MENU, options=[
        Option(value=f"{MENU_EDIT}:{entry.id}", text="Edit (its author)"),
        Option(value=f"{MENU_DELETE}:{entry.id}", text="Delete (its author)"),
    ])


def confirmation(entry: Entry | StoredEntry) -> str:
    """The ephemeral answer the author gets once the entry is safely stored."""
    kind = KIND_LABEL[Kind(entry.kind)].lower()
    if entry.visibility == Visibility.PRIVATE:
        where = "privately: only you can see it"
    elif entry.anonymous:
        where = "and it will be posted here anonymously"
    else:
        where = "and it will be posted here"
    if entry.card_id is not None and entry.visibility != Visibility.PRIVATE:
        where = where.replace("posted here", "posted in its card's thread")
    tags = f" Tags: {', '.join('#' + t for t in entry.tag_names)}." if entry.tag_names else ""
    return (
        f":white_check_mark: Saved your {kind} (ID {entry.id}) {where}.{tags} "
        f"Changed your mind? `/debrief delete {entry.id}`"
    )


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=label)


NO_CARD = "none"


def card_block(cards: Sequence[Card], card_id: int | None) -> InputBlock:
    """The optional card choice: the channel's open cards, and "no card" to undo a pick."""
    options = [_option(NO_CARD, "No card")]
    for card in cards:
        suffix = f" (card {card.id})"
        options.append(_option(str(card.id), clip(card.title, 75 - len(suffix)) + suffix))
    initial = next((o for o in options if card_id is not None and o.value == str(card_id)),
                   None)
    return InputBlock(
        block_id=Block.CARD,
        label="Deliverable card",
        optional=True,
        element=StaticSelectElement(action_id=Action.CARD, options=options[:100],
                                    initial_option=initial, placeholder="No card"),
    )


def entry_modal(channel_id: str, kind: Kind | None = None, *, cards: Sequence[Card] = (),
                card_id: int | None = None) -> View:
    """The Debrief modal: kind, what happened, card (when the channel has open ones),
    visibility, anonymous. Opened from a card, that card and the kind are chosen."""
    kinds = [_option(k.value, f"{KIND_EMOJI[k]} {KIND_LABEL[k]}") for k in Kind]
    visibilities = [_option(v.value, VISIBILITY_LABEL[v]) for v in
                    (Visibility.TEAM, Visibility.PRIVATE, Visibility.ORG)]
    initial_kind = next((o for o in kinds if kind and o.value == kind.value), None)
    metadata: dict[str, object] = {"channel_id": channel_id}
    if card_id is not None:
        metadata["card_id"] = card_id
    card_blocks = [card_block(cards, card_id)] if cards else []
    return View(
        type="modal",
        callback_id=Callback.ENTRY_MODAL,
        title="Debrief",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=[
            InputBlock(
                block_id=Block.KIND,
                label="What is it?",
                element=StaticSelectElement(
                    action_id=Action.KIND, options=kinds, initial_option=initial_kind,
                    placeholder="Win, opportunity or lesson",
                ),
            ),
            InputBlock(
                block_id=Block.TEXT,
                label="What happened?",
                element=PlainTextInputElement(
                    action_id=Action.TEXT, multiline=True, max_length=MAX_TEXT,
                    placeholder="Use #tags to make it easy to find later",
                ),
            ),
            *card_blocks,
            InputBlock(
                block_id=Block.VISIBILITY,
                label="Who can see it?",
                element=RadioButtonsElement(
                    action_id=Action.VISIBILITY, options=visibilities,
                    initial_option=visibilities[0],
                ),
            ),
            InputBlock(
                block_id=Block.ANONYMOUS,
                label="Anonymous",
                optional=True,
                element=CheckboxesElement(
                    action_id=Action.ANONYMOUS,
                    options=[_option("yes", "Share anonymously: your name is never shown")],
                ),
            ),
        ],
    )


def entry_modal_anywhere() -> View:
    """The Debrief modal opened away from a channel (the App Home): it asks where to post
    first; no card, since cards belong to a channel."""
    view = entry_modal("")
    view.blocks.insert(0, InputBlock(
        block_id=Block.POST_TO, label="Which channel is it for?",
        hint="A team-visible entry is posted there; a private one is only filed with it.",
        element=ConversationSelectElement(
            action_id=Action.POST_TO, placeholder="Choose a channel",
            filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True,
                                      exclude_external_shared_channels=True))))
    return view
