"""The `/debrief settings` modal (workspace admins only)."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.ids import Action, Callback, HopeAction, HopeBlock
from bot.ids import Block as BlockId
from bot.services.checkback import DEFAULT_DAYS
from bot.services.reflections import MAX_PROMPT
from bot.services.settings import Choices
from bot.views.checkback import settings_block

LEADERBOARD_ON = "on"
TITLE = "Debrief settings"
CHECKING = ":hourglass_flowing_sand: Checking that you are a workspace admin…"
ONLY_ADMINS = (":lock: Only workspace admins and owners can change Debrief's settings. "
               "Ask one of them.")
COULD_NOT_CHECK = (":warning: I could not check with Slack whether you are a workspace admin. "
                   "Nothing was changed; please try `/debrief settings` again.")


def settings_modal(channel_id: str, current: Choices, prompts: list[str],
                   check_back_days: int = DEFAULT_DAYS) -> View:
    """The settings form: applause emoji, this channel's leaderboard, when opportunities
    are checked back on, the HOPE prompts."""
    emoji = " ".join(f":{name}:" for name in current.applause_emoji or [])
    toggle = Option(value=LEADERBOARD_ON,
                    text="Show a per-person applause ranking here")
    blocks: list[Block] = [
        InputBlock(
            block_id=BlockId.APPLAUSE_EMOJI,
            label="Emoji that count as applause",
            hint="Leave empty and every emoji counts. Applies to the whole workspace.",
            optional=True,
            element=PlainTextInputElement(
                action_id=Action.APPLAUSE_EMOJI, initial_value=emoji or None,
                placeholder=":tada: :clap: :raised_hands:", max_length=2000,
            ),
        ),
        InputBlock(
            block_id=BlockId.LEADERBOARD,
            label="Leaderboard in this channel",
            optional=True,
            element=CheckboxesElement(
                action_id=Action.LEADERBOARD, options=[toggle],
                initial_options=[toggle] if current.leaderboard else None,
            ),
        ),
        ContextBlock(elements=[MarkdownTextObject(text=(
            "Without a leaderboard `/debrief kudos` shows how many people shared and were "
            "applauded, never a ranking. Anonymous entries are never ranked."))]),
    ]
    blocks.append(settings_block(check_back_days))
    blocks.append(HeaderBlock(text="HOPE prompts"))
    blocks += [
        InputBlock(
            block_id=f"{HopeBlock.PROMPT}{number}", label=f"Prompt {number}",
            element=PlainTextInputElement(action_id=HopeAction.PROMPT, initial_value=prompt,
                                          max_length=MAX_PROMPT),
        )
        for number, prompt in enumerate(prompts, 1)
    ]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=(
        "What `/hope` asks. Reflections stay private to their authors, admins included."))]))
    return View(type="modal", callback_id=Callback.SETTINGS_MODAL, title=TITLE,
                submit="Save", close="Cancel",
                private_metadata=json.dumps({"channel_id": channel_id}), blocks=blocks)
