"""/debrief digest: schedule, show or stop the organisation digest (database only)."""

from __future__ import annotations

from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.services import digest
from bot.views import digest as digest_view


def schedule_digest(call: Call) -> str:
    args = call.args.strip()
    if not args:
        return digest_view.status(digest.get_digest(call.db, call.team_id))
    # Only admins schedule or stop it: asked of Slack before the database is touched.
    person = call.deps.directory.person(call.client, call.team_id, call.user_id)
    if args.lower() in ("off", "stop"):
        stopped = digest.stop_digest(call.db, call.team_id, by=person)
        return digest_view.stopped(stopped)
    schedule = digest.parse_schedule(args, here=call.channel_id)
    saved = digest.set_digest(call.db, call.team_id, call.user_id, schedule, by=person)
    return digest_view.scheduled(saved)


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("digest", usage="digest #channel weekly DAY HH:MM [TZ]",
                   summary="post the week's most applauded org-visible learnings "
                           "(`digest` shows it, `digest off` stops it)")(schedule_digest)
