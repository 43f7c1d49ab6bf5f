"""/debrief kudos [week|month|all]."""

from __future__ import annotations

from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.listeners.router import split
from bot.services import kudos as kudos_service
from bot.views.kudos import kudos_text


def kudos(call: Call) -> str:
    word, _rest = split(call.args)
    period = kudos_service.parse_period(word)
    found = kudos_service.kudos(call.db, call.team_id, call.channel_id, call.user_id, period)
    return kudos_text(found, call.channel_id)


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("kudos", usage="kudos [week|month|all]", summary="applause you received "
                   "and gave in this channel, and the team's part")(kudos)
