"""/debrief search QUERY: what the caller may read is asked of Slack first (kept a minute,
bot/directory.py), then one database query on the ack path."""

from __future__ import annotations

from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.listeners.slack_text import typed_text
from bot.services import search as search_service
from bot.services.search import Viewer
from bot.views import search as search_view


def viewer(call: Call) -> Viewer:
    """The caller as a reader: the channels they are in and whether they are a guest, as
    Slack says now (asked before the database is touched)."""
    directory = call.deps.directory
    person = directory.person(call.client, call.team_id, call.user_id)
    channels = directory.channels(call.client, call.team_id, call.user_id)
    return Viewer(call.team_id, call.user_id, call.channel_id, channels, person.guest)


def search(call: Call) -> dict:
    reader = viewer(call)
    query = typed_text(call.args)  # `#release` may arrive as a channel link, `&` as &amp;
    hits = search_service.search(call.db, reader, query)
    return search_view.results_message(
        query, hits, call.user_id, narrowed=reader.channels is None or reader.guest is None)


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("search", "find", usage="search QUERY", summary="the best matches among "
                   "the entries you can see, with links")(search)
