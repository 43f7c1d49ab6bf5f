"""/debrief digest: schedule, show or stop the organisation digest (database only)."""

from __future__ import annotations

from bot.listeners.commands import Call, subcommand
from bot.services import digest
from bot.views import digest as digest_view


@subcommand("digest", usage="digest #channel weekly DAY HH:MM [TZ]",
            summary="post the week's most applauded org-visible learnings "
                    "(`digest` shows it, `digest off` stops it)")
def schedule_digest(call: Call) -> str:
    args = call.args.strip()
    if not args:
        return digest_view.status(digest.get_digest(call.db, call.team_id))
    if args.lower() in ("off", "stop"):
        stopped = digest.stop_digest(call.db, call.team_id)
        call.db.commit()  # before the answer says so
        return digest_view.stopped(stopped)
    schedule = digest.parse_schedule(args, here=call.channel_id)
    saved = digest.set_digest(call.db, call.team_id, call.user_id, schedule)
    call.db.commit()
    return digest_view.scheduled(saved)
