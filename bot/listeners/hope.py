"""/hope: the private reflection, its history, sharing one as a lesson, and the prompts."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.db.models import Visibility
from bot.ids import HOPE_COMMAND, HopeAction, HopeBlock, HopeCallback
from bot.listeners import Deps, Listeners
from bot.listeners.router import split
from bot.listeners.settings import open_for_admins, recheck_admin
from bot.listeners.unit import workspace
from bot.services import access, nearmiss, reflections
from bot.services.entries import EntryError, validate_text
from bot.services.numbers import whole_number
from bot.services.reflections import DEFAULT_PROMPTS, ReflectionError
from bot.views import hope as hope_views

log = logging.getLogger(__name__)


def open_view(client: WebClient, trigger_id: str, modal: dict) -> None:
    client.views_open(trigger_id=trigger_id, view=modal)


def handle(ack: Ack, command: dict, context: BoltContext, client: WebClient) -> None:
    word, args = split(command.get("text", ""))
    deps: Deps = context["deps"]
    db = context["db"]
    team_id, user_id = workspace(context), command["user_id"]
    if not word:
        ack()
        modal = hope_views.reflection_modal(reflections.prompts_for(db, team_id)).to_dict()
        deps.after_ack(open_view, client, command["trigger_id"], modal)
    elif word == "history":
        page = whole_number(args) or 1
        found = reflections.history(db, team_id, user_id, page)
        shared = {r.id: e for r in found.reflections
                  if (e := reflections.shared_entry(db, r)) is not None}
        ack(**hope_views.history(found, shared))
    elif word == "prompts":
        ack()
        deps.after_ack(open_prompts, client, command["trigger_id"], user_id,
                       reflections.prompts_for(db, team_id))
    elif word == "help":
        ack(**hope_views.help_message(channel_id=command["channel_id"]))
    else:
        ack(**hope_views.help_message(
            unknown=word, channel_id=command["channel_id"],
            suggestion=nearmiss.closest(word, hope_views.HOPE_WORDS)))


def on_open(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    """"Reflect" (help, the App Home): the HOPE modal, as `/hope` opens it."""
    ack()
    modal = hope_views.reflection_modal(
        reflections.prompts_for(context["db"], workspace(context))).to_dict()
    context["deps"].after_ack(open_view, client, body["trigger_id"], modal)


def open_prompts(client: WebClient, trigger_id: str, user_id: str, prompts: list[str]) -> None:
    """The prompts form, for workspace admins only (asked of Slack after the ack)."""
    title = "HOPE prompts"
    open_for_admins(
        client, trigger_id, user_id,
        hope_views.notice(title, ":hourglass_flowing_sand: Checking that you are a "
                                 "workspace admin…"),
        hope_views.notice(title, ":warning: I could not ask Slack whether you are a workspace "
                                 "admin. Nothing was changed; please try again in a minute."),
        hope_views.notice(title, ":no_entry: Only workspace admins and owners can change the "
                                 "HOPE prompts. Ask one of them if you would like different "
                                 "ones."),
        lambda: hope_views.prompts_modal(prompts, list(DEFAULT_PROMPTS)))


def _text(values: dict, block: str, action: str) -> str:
    return values.get(block, {}).get(action, {}).get("value") or ""


def submit_reflection(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    db = context["db"]
    team_id = workspace(context)
    meta = json.loads(view.get("private_metadata") or "{}")
    prompts = meta.get("prompts") or reflections.prompts_for(db, team_id)
    values = view["state"]["values"]
    answers = [_text(values, f"{HopeBlock.ANSWER}{n}", HopeAction.ANSWER)
               for n in range(1, len(prompts) + 1)]
    problems = reflections.answer_problems(answers)
    if problems:
        # The modal stays open with every word the person typed.
        ack(response_action="errors",
            errors={f"{HopeBlock.ANSWER}{i + 1}": msg for i, msg in problems.items()})
        return
    reflections.save(db, team_id, body["user"]["id"], prompts, answers)
    ack(response_action="update", view=hope_views.kept().to_dict())


def _action(body: dict) -> tuple[int | None, str]:
    action = body["actions"][0]
    value = action.get("value") or ""
    channel = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id") or ""
    return whole_number(value), channel


# Named through the service: a listener never uses the model itself (tests/test_privacy.py).
def _own(context: BoltContext, body: dict,
         reflection_id: int | None) -> reflections.Reflection | None:
    if reflection_id is None:
        return None
    try:
        return reflections.own(context["db"], workspace(context), body["user"]["id"],
                               reflection_id)
    except ReflectionError:
        return None


def _missing() -> dict:
    # The same answer for "gone" and "someone else's": nothing to learn from it.
    return hope_views.notice("HOPE", "That reflection is not there any more.").to_dict()


def on_read(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    ack()
    reflection_id, _channel = _action(body)
    reflection = _own(context, body, reflection_id)
    modal = hope_views.read(reflection).to_dict() if reflection else _missing()
    context["deps"].after_ack(open_view, client, body["trigger_id"], modal)


def on_share(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    ack()
    reflection_id, channel_id = _action(body)
    reflection = _own(context, body, reflection_id)
    if reflection is None:
        modal = _missing()
    elif (entry := reflections.shared_entry(context["db"], reflection)) is not None:
        modal = hope_views.notice("Share as a lesson",
                            f"You already shared this reflection: lesson ID {entry.id}.").to_dict()
    else:
        modal = hope_views.share_modal(reflection, channel_id,
                                 reflections.lesson_text(reflection)).to_dict()
    context["deps"].after_ack(open_view, client, body["trigger_id"], modal)


def submit_share(ack: Ack, body: dict, view: dict, context: BoltContext,
                 client: WebClient) -> None:
    meta = json.loads(view.get("private_metadata") or "{}")
    # The lesson goes to the channel the form was opened in: still theirs? Asked of Slack
    # before the database is touched.
    if meta.get("channel_id"):
        channels = context["deps"].directory.channels(client, workspace(context),
                                                      body["user"]["id"])
        access.require_in_channel(channels, str(meta["channel_id"]),
                                  "You are no longer in that channel: share it from "
                                  "`/hope history` in a channel you are in.")
    values = view["state"]["values"]
    text = _text(values, HopeBlock.SHARE_TEXT, HopeAction.SHARE_TEXT)
    chosen = (values.get(HopeBlock.SHARE_WITH, {}).get(HopeAction.SHARE_WITH, {})
              .get("selected_option") or {}).get("value", "")
    anonymous = bool(values.get(HopeBlock.SHARE_ANONYMOUS, {})
                     .get(HopeAction.SHARE_ANONYMOUS, {}).get("selected_options"))
    errors: dict[str, str] = {}
    try:
        validate_text(text)
    except EntryError as error:
        errors[HopeBlock.SHARE_TEXT] = str(error)
    if chosen not in (Visibility.TEAM, Visibility.ORG):
        errors[HopeBlock.SHARE_WITH] = "Choose the team or the organisation."
    reflection = _own(context, body, meta.get("reflection_id"))
    if reflection is None:
        errors[HopeBlock.SHARE_TEXT] = "That reflection is not there any more."
    if not meta.get("channel_id"):
        errors[HopeBlock.SHARE_WITH] = "Share it from a channel: `/hope history` there."
    if not errors and reflection is not None:  # (a missing one is an error above)
        try:
            reflections.share(context["db"], reflection, channel_id=meta["channel_id"],
                              text=text, visibility=Visibility(chosen), anonymous=anonymous)
        except ReflectionError as error:
            errors[HopeBlock.SHARE_TEXT] = str(error)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()


def submit_prompts(ack: Ack, body: dict, view: dict, context: BoltContext,
                   client: WebClient) -> None:
    # The form opens for workspace admins alone, and is checked again now: rights can be
    # taken away while it is open.
    recheck_admin(context, body, client)
    values = view["state"]["values"]
    reset = bool(values.get(HopeBlock.RESET, {}).get(HopeAction.RESET, {})
                 .get("selected_options"))
    prompts = [_text(values, f"{HopeBlock.PROMPT}{n}", HopeAction.PROMPT)
               for n in range(1, len(DEFAULT_PROMPTS) + 1)]
    if not reset:
        errors = {f"{HopeBlock.PROMPT}{n}": problem for n, prompt in enumerate(prompts, 1)
                  if (problem := reflections.prompt_problem(prompt))}
        if errors:
            ack(response_action="errors", errors=errors)
            return
    reflections.set_prompts(context["db"], workspace(context), body["user"]["id"],
                            None if reset else prompts)
    done = "back to the defaults" if reset else "saved"
    ack(response_action="update", view=hope_views.notice(
        "HOPE prompts", f":white_check_mark: The HOPE prompts are {done}. "
                        "The next `/hope` uses them.").to_dict())


def register(app: Listeners, deps: Deps) -> None:
    app.command(HOPE_COMMAND, handle)
    app.view(HopeCallback.REFLECTION, submit_reflection)
    app.view(HopeCallback.SHARE, submit_share)
    app.view(HopeCallback.PROMPTS, submit_prompts)
    app.action(HopeAction.READ, on_read)
    app.action(HopeAction.OPEN, on_open)
    app.action(HopeAction.SHARE, on_share)
