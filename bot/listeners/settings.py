"""/debrief settings: workspace admins choose which emoji count and per-channel
leaderboards. Whether the caller is an admin is asked of Slack after the ack."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.ids import Action, Block, Callback, HopeAction, HopeBlock
from bot.listeners import Deps
from bot.listeners.commands import Call, subcommand
from bot.listeners.transaction import transactional
from bot.services import reflections
from bot.services import settings as settings_service
from bot.services.errors import UserError
from bot.services.reflections import DEFAULT_PROMPTS
from bot.services.settings import Choices
from bot.views.hope import notice
from bot.views.settings import (
    CHECKING,
    COULD_NOT_CHECK,
    LEADERBOARD_ON,
    ONLY_ADMINS,
    TITLE,
    settings_modal,
)

log = logging.getLogger(__name__)


@subcommand("settings", usage="settings",
            summary="workspace admins: which emoji count as applause, leaderboards, "
                    "the HOPE prompts")
def settings(call: Call) -> None:
    current = settings_service.choices(call.db, call.team_id, call.channel_id)
    prompts = reflections.prompts_for(call.db, call.team_id)
    call.deps.after_ack(open_if_admin, call.client, call.deps, call.trigger_id, call.team_id,
                        call.user_id, call.channel_id, current, prompts)
    return None


def open_if_admin(client: WebClient, deps: Deps, trigger_id: str, team_id: str, user_id: str,
                  channel_id: str, current: Choices, prompts: list[str]) -> None:
    """Open a modal at once (the trigger expires in 3 s), ask Slack whether the caller is a
    workspace admin, then show the form, or say why not."""
    opened = client.views_open(trigger_id=trigger_id, view=notice(TITLE, CHECKING).to_dict())
    view_id = opened["view"]["id"]
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except (SlackApiError, OSError) as error:  # OSError: Slack unreachable
        log.warning("users.info failed: %s", type(error).__name__)
        client.views_update(view_id=view_id, view=notice(TITLE, COULD_NOT_CHECK).to_dict())
        return
    if user.get("is_admin") or user.get("is_owner"):
        view = settings_modal(channel_id, current, prompts)
    else:
        view = notice(TITLE, ONLY_ADMINS)
    client.views_update(view_id=view_id, view=view.to_dict())


def submit_settings(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    values = view["state"]["values"]
    typed = values.get(Block.APPLAUSE_EMOJI, {}).get(Action.APPLAUSE_EMOJI, {}).get("value")
    ticked = values.get(Block.LEADERBOARD, {}).get(Action.LEADERBOARD, {}) \
        .get("selected_options") or []
    channel_id = json.loads(view.get("private_metadata") or "{}").get("channel_id")
    try:
        emoji = settings_service.parse_emoji(typed)
    except UserError as error:
        ack(response_action="errors", errors={Block.APPLAUSE_EMOJI: str(error)})
        return
    prompts = [values.get(f"{HopeBlock.PROMPT}{n}", {}).get(HopeAction.PROMPT, {}).get("value")
               or "" for n in range(1, len(DEFAULT_PROMPTS) + 1)]
    problems = {f"{HopeBlock.PROMPT}{n}": problem for n, prompt in enumerate(prompts, 1)
                if (problem := reflections.prompt_problem(prompt))}
    if problems:
        ack(response_action="errors", errors=problems)
        return
    if not channel_id:
        ack(response_action="errors", errors={
            Block.APPLAUSE_EMOJI: "Open the settings with /debrief settings in a channel."})
        return
    settings_service.save(
        context["db"], context.team_id or body["user"]["team_id"], channel_id,
        body["user"]["id"], applause_emoji=emoji,
        leaderboard=any(o.get("value") == LEADERBOARD_ON for o in ticked),
    )
    reflections.set_prompts(context["db"], context.team_id or body["user"]["team_id"],
                            body["user"]["id"], prompts)
    ack()


def register(app: App, deps: Deps) -> None:
    app.view(Callback.SETTINGS_MODAL)(transactional(deps)(submit_settings))
