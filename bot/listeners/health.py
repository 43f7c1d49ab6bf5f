"""`/debrief health`: the channel's last 12 weeks as a picture, shared in the channel now,
or every week where the channel opted in (`weekly`, `off`)."""

from __future__ import annotations

from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.listeners.router import split
from bot.listeners.slack_text import typed_text
from bot.services import health_posts, nearmiss
from bot.services.errors import UserError
from bot.views import health as views
from bot.views.text import clip, safe


def health(call: Call) -> str:
    word, rest = split(call.args)
    if not word:
        health_posts.share_now(call.db, call.team_id, call.channel_id, call.user_id)
        return views.sharing()
    if word == "weekly":
        return views.weekly_set(health_posts.weekly(call.db, call.team_id, call.channel_id,
                                                    call.user_id, rest))
    if word == "off":
        return views.weekly_stopped(health_posts.stop(call.db, call.team_id, call.channel_id))
    guess = nearmiss.closest(word, ("weekly", "off"))
    retyped = safe(clip(f"{guess} {typed_text(rest)}".strip(), 200))
    meant = f" Did you mean `/debrief health {retyped}`?" if guess else ""
    raise UserError(f"I don't know `health {safe(clip(typed_text(word), 80))}`.{meant} "
                    f"Use {health_posts.USAGE}.")


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("health", usage="health [weekly DAY HH:MM [TZ] | off]",
                   summary="how this channel learns: a 12-week picture shared here, never a "
                           "ranking (`weekly` posts it every week)")(health)
