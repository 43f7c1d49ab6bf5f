"""How HOPE looks: the reflection modal, the author's history, sharing, the prompts form."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.views import View

from bot.db.models import Entry, Reflection, Visibility
from bot.ids import HopeAction, HopeBlock, HopeCallback
from bot.services.reflections import MAX_ANSWER, MAX_PROMPT, Page, label
from bot.views import help as help_view
from bot.views.text import clip, safe

PRIVATE_NOTE = ":lock: Only you can ever read this: not your team, not the admins."


def _plain(text: str) -> PlainTextObject:
    # Plain text never pings, links or mentions: what was typed is shown as typed.
    return PlainTextObject(text=text, emoji=False)


def reflection_modal(prompts: list[str]) -> View:
    """The HOPE modal: one answer per prompt, all optional but not all empty."""
    inputs: list[SlackBlock] = [
        InputBlock(
            block_id=f"{HopeBlock.ANSWER}{number}",
            label=clip(prompt, 2000),
            optional=True,
            element=PlainTextInputElement(action_id=HopeAction.ANSWER, multiline=True,
                                          max_length=MAX_ANSWER),
        )
        for number, prompt in enumerate(prompts, 1)
    ]
    return View(
        type="modal", callback_id=HopeCallback.REFLECTION, title="HOPE reflection",
        submit="Keep it", close="Cancel",
        private_metadata=json.dumps({"prompts": prompts}, ensure_ascii=False),
        blocks=[ContextBlock(elements=[MarkdownTextObject(
            text=PRIVATE_NOTE + " Share it later, if you like, with `/hope history`.")]),
            *inputs],
    )


def notice(title: str, text: str) -> View:
    """A modal that only tells something (no submit)."""
    return View(type="modal", callback_id=HopeCallback.NOTICE, title=title, close="Close",
                blocks=[SectionBlock(text=MarkdownTextObject(text=text))])


def kept() -> View:
    return notice("Kept privately", ":white_check_mark: Your reflection is kept. "
                  f"{PRIVATE_NOTE}\n`/hope history` lists your reflections; share one as a "
                  "lesson whenever you are ready.")


def _when(reflection: Reflection) -> str:
    # Slack shows the date in the reader's own time zone.
    epoch = int(reflection.created_at.timestamp())
    fallback = reflection.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _shared_note(entry: Entry) -> str:
    who = "anonymously" if entry.anonymous else "with your name"
    where = "the organisation" if entry.visibility == Visibility.ORG else "the team"
    return f":outbox_tray: Shared with {where} {who} as lesson ID {entry.id}."


def history(page: Page, shared: dict[int, Entry]) -> dict:
    """The author's reflections (an ephemeral message): previews, Read and Share."""
    if not page.total:
        text = ("You have no reflections yet. `/hope` starts one: only you will be able to "
                "read it.")
        return {"text": text}
    blocks: list[SlackBlock] = [SectionBlock(text=MarkdownTextObject(
        text=f"*Your reflections* ({page.total}) — {PRIVATE_NOTE}"))]
    for reflection in page.reflections:
        preview = [f"*{safe(clip(label(p), 60))}:* {safe(clip(a.strip(), 150))}"
                   for p, a in zip(reflection.prompts, reflection.answers, strict=False)
                   if a.strip()]
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=clip(f"*{_when(reflection)}*\n" + "\n".join(preview), 3000), verbatim=True)))
        buttons = [ButtonElement(text="Read", action_id=HopeAction.READ,
                                 value=str(reflection.id))]
        entry = shared.get(reflection.id)
        if entry is None:
            buttons.append(ButtonElement(text="Share…", action_id=HopeAction.SHARE,
                                         value=str(reflection.id)))
        else:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_shared_note(entry))]))
        blocks.append(ActionsBlock(block_id=f"hope_reflection_{reflection.id}",
                                   elements=buttons))
    if page.pages > 1:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"Page {page.page} of {page.pages}. "
                 + (f"Older ones: `/hope history {page.page + 1}`" if page.page < page.pages
                    else "These are your oldest."))]))
    return {"text": f"Your reflections ({page.total})",
            "blocks": [block.to_dict() for block in blocks]}


def read(reflection: Reflection) -> View:
    """One whole reflection, for its author."""
    blocks: list[SlackBlock] = [ContextBlock(elements=[MarkdownTextObject(
        text=f"{_when(reflection)} · {PRIVATE_NOTE}")])]
    for prompt, answer in zip(reflection.prompts, reflection.answers, strict=False):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{safe(clip(prompt, 2900))}*",
                                                             verbatim=True)))
        blocks.append(SectionBlock(text=_plain(answer.strip() or "—")))
    return View(type="modal", callback_id=HopeCallback.NOTICE, title="Your reflection",
                close="Close", blocks=blocks)


def share_modal(reflection: Reflection, channel_id: str, text: str) -> View:
    """Confirm sharing: the lesson's text (editable), team or organisation, anonymous."""
    shortened = len(text) > MAX_ANSWER
    hint = ("Shortened to fit 3,000 characters; your reflection keeps every word. "
            if shortened else "") + "Edit it as you like: take out anything you would rather keep."
    choices = [Option(value=Visibility.TEAM, text="Team: posted in this channel"),
               Option(value=Visibility.ORG, text="Organisation: this channel and the org digest")]
    return View(
        type="modal", callback_id=HopeCallback.SHARE, title="Share as a lesson",
        submit="Share", close="Cancel",
        private_metadata=json.dumps({"reflection_id": reflection.id, "channel_id": channel_id}),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=(
                "This posts the text below as a *lesson*. Once shared, others can read it; "
                "your reflection itself stays private."))),
            InputBlock(block_id=HopeBlock.SHARE_TEXT, label="The lesson", hint=hint,
                       element=PlainTextInputElement(
                           action_id=HopeAction.SHARE_TEXT, multiline=True,
                           max_length=MAX_ANSWER, initial_value=clip(text, MAX_ANSWER))),
            InputBlock(block_id=HopeBlock.SHARE_WITH, label="Share with",
                       element=RadioButtonsElement(action_id=HopeAction.SHARE_WITH,
                                                   options=choices, initial_option=choices[0])),
            InputBlock(block_id=HopeBlock.SHARE_ANONYMOUS, label="Anonymous", optional=True,
                       element=CheckboxesElement(action_id=HopeAction.SHARE_ANONYMOUS, options=[
                           Option(value="yes",
                                  text="Share anonymously: your name is never shown")])),
        ],
    )


def prompts_modal(prompts: list[str], defaults: list[str]) -> View:
    """For workspace admins: the four HOPE prompts, or back to the defaults."""
    inputs: list[SlackBlock] = [
        InputBlock(block_id=f"{HopeBlock.PROMPT}{number}", label=f"Prompt {number} ({letter})",
                   element=PlainTextInputElement(action_id=HopeAction.PROMPT,
                                                 max_length=MAX_PROMPT, initial_value=prompt))
        for number, (letter, prompt) in enumerate(zip("HOPE", prompts, strict=False), 1)
    ]
    return View(
        type="modal", callback_id=HopeCallback.PROMPTS, title="HOPE prompts", submit="Save",
        close="Cancel",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=(
                "What `/hope` asks everyone in this workspace. Reflections already written "
                "keep the prompts they were written with."))),
            *inputs,
            InputBlock(block_id=HopeBlock.RESET, label="Defaults", optional=True,
                       element=CheckboxesElement(action_id=HopeAction.RESET, options=[
                           Option(value="yes", text="Go back to the default prompts")]),
                       hint=clip(" · ".join(label(p) for p in defaults), 150)),
        ],
    )


# /hope's words, as help lists them: how to type it, what it does, an example.
HOPE_HELP = [
    help_view.HelpLine("/hope", "write a reflection (Happened, Outcome, People, Evolve); "
                       "only you can read it", "/hope"),
    help_view.HelpLine("/hope history [PAGE]", "your reflections; share one as a lesson, "
                       "named or anonymously", "/hope history 2"),
    help_view.HelpLine("/hope prompts", "workspace admins: change the four prompts",
                       "/hope prompts"),
    help_view.HelpLine("/debrief forget-me", "erase everything you wrote here",
                       "/debrief forget-me"),
]
HOPE_WORDS = ("history", "prompts", "help")


def usage(unknown: str | None = None, suggestion: str | None = None) -> str:
    """Help for /hope; `unknown` is what the person typed, shown inert."""
    head = f"I don't know `{safe(clip(unknown, 100))}`." if unknown else ""
    if unknown and suggestion:
        head += f" Did you mean `/hope {safe(clip(suggestion, 200))}`?"
    return (head + "\n\n" if head else "") + "*HOPE* — a short, private look back:\n" + \
        "\n".join(f"• `{line.command}` — {line.summary}" for line in HOPE_HELP)


def help_message(unknown: str | None = None, suggestion: str | None = None,
                 channel_id: str = "") -> dict:
    """Help for /hope as Block Kit, with its text."""
    return help_view.hope_help_message(HOPE_HELP, usage(unknown, suggestion),
                                       channel_id=channel_id, unknown=unknown,
                                       suggestion=suggestion)
