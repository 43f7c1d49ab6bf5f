"""The App Home tab: published with the channels the person is in, as Slack says when it
is sent, and what the database holds then; or a page of the person's history (the row's
payload names the page)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db.models import OutboxMessage
from bot.ids import OutboxAction
from bot.outbox.sender import Sender, Sent, Work
from bot.services import home, journal
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
        try:
            channels = member_channels(slack, user_id)
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500:
                raise
            # Say, an install from before the scope was added: a Home without the team's
            # channel learnings beats no Home at all.
            log.warning("users.conversations failed (%s): Home shows org learnings only",
                        error.response.get("error"))
            channels = set()
        with work.read() as db:
            view = home_view(home.home_for(db, row.team_id, user_id, channels))
        slack.views_publish(user_id=user_id, view=view.to_dict())
        return Sent()


def member_channels(slack: WebClient, user_id: str) -> set[str]:
    """The channels a person is in (public, and private ones the bot is in too)."""
    channels: set[str] = set()
    cursor = None
    for _ in range(20):  # 20 pages of 1,000: more channels than anyone is in
        page = slack.users_conversations(user=user_id, types="public_channel,private_channel",
                                         exclude_archived=True, limit=1000, cursor=cursor)
        listed: list[dict[str, Any]] = page.get("channels", [])
        channels.update(channel["id"] for channel in listed)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return channels
