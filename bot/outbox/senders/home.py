"""The App Home tab: published with the channels the person is in, as Slack says when it
is sent, and what the database holds then; or a page of the person's history (the row's
payload names the page)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db.models import OutboxMessage
from bot.directory import ask_channels, ask_user
from bot.ids import OutboxAction
from bot.outbox.sender import Sender, Sent, Work
from bot.services import access, home, journal
from bot.views.home import home_view, journal_view

log = logging.getLogger(__name__)


class HomeSender(Sender):
    actions = frozenset({OutboxAction.PUBLISH_HOME})

    def send(self, slack: WebClient, row: OutboxMessage, work: Work) -> Sent:
        user_id = row.user_id or row.channel_id
        page = int((row.payload or {}).get("page") or 0)
        if page >= 1:
            # A page of the person's history: their own words only, no need to ask Slack.
            with work.read() as db:
                view = journal_view(journal.journal(db, row.team_id, user_id, page))
            slack.views_publish(user_id=user_id, view=view.to_dict())
            return Sent()
        # What the person may read, as Slack says now: the channels they are in, and
        # whether they are a guest (guests never see organisation-wide learnings).
        try:
            guest = access.is_guest(ask_user(slack, user_id))
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500:
                raise
            log.warning("users.info failed (%s): Home shows no organisation learnings",
                        error.response.get("error"))
            guest = True  # without Slack's word, as for a guest
        try:
            channels: frozenset[str] = ask_channels(slack, user_id)
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500:
                raise
            # Say, an install from before the scope was added: a Home without the team's
            # channel learnings beats no Home at all.
            log.warning("users.conversations failed (%s): Home shows no team learnings",
                        error.response.get("error"))
            channels = frozenset()
        with work.read() as db:
            view = home_view(home.home_for(db, row.team_id, user_id, channels,
                                           org=not guest))
        slack.views_publish(user_id=user_id, view=view.to_dict())
        return Sent()

