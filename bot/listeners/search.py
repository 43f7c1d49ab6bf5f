"""/debrief search QUERY: a database query on the ack path, no Slack call."""

from __future__ import annotations

from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.listeners.slack_text import typed_text
from bot.services import search as search_service
from bot.services.search import Viewer
from bot.views import search as search_view


def search(call: Call) -> str:
    viewer = Viewer(call.team_id, call.user_id, call.channel_id)
    query = typed_text(call.args)  # `#release` may arrive as a channel link, `&` as &amp;
    hits = search_service.search(call.db, viewer, query)
    return search_view.results(query, hits, call.user_id)


def register(app: Listeners, deps: Deps) -> None:
    app.subcommand("search", "find", usage="search QUERY", summary="the best matches among "
                   "the entries you can see, with links")(search)
