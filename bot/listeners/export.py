"""`/debrief export [csv|md]`: the channel's team-visible entries as a file."""

from __future__ import annotations

from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.services import export


def export_entries(call: Call) -> str:
    fmt = export.parse_format(call.args)
    # A guest never sees organisation-wide entries (nor anyone Slack did not vouch for).
    person = call.deps.directory.person(call.client, call.team_id, call.user_id)
    count = export.request_export(call.db, team_id=call.team_id, channel_id=call.channel_id,
                                  user_id=call.user_id, fmt=fmt,
                                  team_only=person.guest is not False)
    noun = "entry" if count == 1 else "entries"
    return (f":package: Exporting {count} {noun} as {fmt.upper()}: the file will be shared in "
            "this channel in a moment. Private entries are never included, and anonymous "
            "ones carry no author.")



def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("export", usage="export [csv|md]", summary="this channel's team-visible "
                   "entries as a file, shared in this channel")(export_entries)
