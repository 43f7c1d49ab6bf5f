"""/debrief settings: workspace admins choose which emoji count and per-channel
leaderboards. Whether the caller is an admin is asked of Slack after the ack."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.ids import Action, Block, Callback, HopeAction, HopeBlock, LoopAction, LoopBlock
from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.listeners.unit import workspace
from bot.services import access, checkback, reflections
from bot.services import settings as settings_service
from bot.services.errors import UserError
from bot.services.reflections import DEFAULT_PROMPTS
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


def settings(call: Call) -> None:
    current = settings_service.choices(call.db, call.team_id, call.channel_id)
    prompts = reflections.prompts_for(call.db, call.team_id)
    days = checkback.default_days(call.db, call.team_id)
    call.deps.after_ack(
        open_for_admins, call.client, call.trigger_id, call.user_id,
        notice(TITLE, CHECKING), notice(TITLE, COULD_NOT_CHECK), notice(TITLE, ONLY_ADMINS),
        lambda: settings_modal(call.channel_id, current, prompts, days))
    return None


def open_for_admins(client: WebClient, trigger_id: str, user_id: str, checking: View,
                    could_not_check: View, refused: View, form: Callable[[], View]) -> None:
    """Open a modal at once (the trigger expires in 3 s), ask Slack whether the caller is a
    workspace admin, then show the `form`, or say why not."""
    opened = client.views_open(trigger_id=trigger_id, view=checking.to_dict())
    view_id = opened["view"]["id"]
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except (SlackApiError, OSError) as error:  # OSError: Slack unreachable
        code = error.response.get("error") if isinstance(error, SlackApiError) else "connection"
        log.warning("users.info failed: %s", code)
        client.views_update(view_id=view_id, view=could_not_check.to_dict())
        return
    view = form() if settings_service.is_workspace_admin(user) else refused
    client.views_update(view_id=view_id, view=view.to_dict())


def recheck_admin(context: BoltContext, body: dict, client: WebClient) -> None:
    """Admin rights are asked of Slack again when the form is submitted: they may have
    been taken away since it opened. Before the database is touched."""
    team_id = workspace(context)
    person = context["deps"].directory.person(client, team_id, body["user"]["id"])
    access.require_admin(person, "Only workspace admins and owners can change these "
                                 "settings, and Slack says you are not one (any more). "
                                 "Nothing was changed.")


def submit_settings(ack: Ack, body: dict, view: dict, context: BoltContext,
                    client: WebClient) -> None:
    recheck_admin(context, body, client)
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
        context["db"], workspace(context), channel_id,
        body["user"]["id"], applause_emoji=emoji,
        leaderboard=any(o.get("value") == LEADERBOARD_ON for o in ticked),
    )
    reflections.set_prompts(context["db"], workspace(context),
                            body["user"]["id"], prompts)
    chosen = (values.get(LoopBlock.CHECK_BACK_DAYS, {}).get(LoopAction.CHECK_BACK_DAYS, {})
              .get("selected_option") or {}).get("value")
    if chosen is not None and chosen.isdigit():
        settings_service.set_check_back_days(
            context["db"], workspace(context), body["user"]["id"],
            int(chosen))
    ack()


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("settings", usage="settings", summary="workspace admins: which emoji count "
                   "as applause, leaderboards, the HOPE prompts")(settings)
    app.view(Callback.SETTINGS_MODAL, submit_settings)
