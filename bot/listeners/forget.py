"""/debrief forget-me: erase everything the caller wrote in this workspace, after asking."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext

from bot.ids import HopeCallback
from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.listeners.hope import open_view
from bot.listeners.unit import workspace
from bot.services import forget
from bot.views import forget as forget_views


def forget_me(call: Call) -> str | None:
    footprint = forget.footprint(call.db, call.team_id, call.user_id)
    if footprint.empty:
        return "There is nothing of yours stored in this workspace."
    call.deps.after_ack(open_view, call.client, call.trigger_id,
                        forget_views.confirm(footprint).to_dict())
    return None


def submit_forget(ack: Ack, body: dict, context: BoltContext) -> None:
    team_id = workspace(context)
    erased = forget.forget(context["db"], team_id, body["user"]["id"])
    ack(response_action="update", view=forget_views.done(erased).to_dict())


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("forget-me", usage="forget-me", summary="erase everything you wrote in "
                   "this workspace (asks first)")(forget_me)
    app.view(HopeCallback.FORGET_ME, submit_forget)
