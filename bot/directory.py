"""Who people are in Slack now: whether they are workspace admins or guests (users.info)
and which channels they are in (users.conversations).

Asked on the acknowledgement path, where Slack allows 3 seconds in all: each question gets
a short timeout and no retries, all the questions of one request share one budget
(`start_request_budget`: BUDGET seconds for users.info and every page of
users.conversations), and a good answer is kept for a minute per workspace and person
(users.info is Tier 4, users.conversations Tier 3). When Slack does not answer in time the
lookup says "unknown" (None), and the rules refuse what needs the answer, safely
(bot/services/access.py). Never call it while a database transaction is open: on SQLite
that would hold the writer lock while Slack thinks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.metrics import MeteredWebClient
from bot.services.access import Person

log = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds Slack gets to answer one question on the acknowledgement path.
ASK_TIMEOUT = 1
# Seconds an answer is kept: removals from a channel and changes of role show within it.
KEEP = 60.0
# users.conversations pages of 1,000 asked at most on the acknowledgement path.
MAX_PAGES = 5
# Seconds all of one request's questions to Slack may take together: with the database's
# limits (bot/db/__init__.py) a request answers inside Slack's 3 seconds.
BUDGET = 0.9
# A question is not asked with less time left than this: it could not be answered.
LEAST = 0.05

# When the current request's budget runs out (time.monotonic()); None: no budget (work
# nobody waits on, such as the outbox's and the clock's).
_deadline: ContextVar[float | None] = ContextVar("directory_deadline", default=None)


class OutOfTime(TimeoutError):
    """The request's budget for questions to Slack is spent."""


def start_request_budget(seconds: float = BUDGET) -> None:
    """The questions asked from now on in this thread share `seconds`: called as a
    request starts (bot/metrics.instrument), in the thread that runs its listener; the
    next request in the thread starts its own."""
    _deadline.set(time.monotonic() + seconds)


def _timeout() -> float:
    """Seconds the next question may take: ASK_TIMEOUT, or what is left of the budget."""
    deadline = _deadline.get()
    if deadline is None:
        return ASK_TIMEOUT
    left = deadline - time.monotonic()
    if left < LEAST:
        raise OutOfTime("the request's time for questions to Slack is spent")
    return min(ASK_TIMEOUT, left)


def quick(client: WebClient) -> WebClient:
    """`client`'s workspace and token (an org-wide install's names its workspace), with
    a short timeout (what is left of the request's budget) and no retries."""
    # A float timeout: urllib takes one (slack_sdk's hint says int).
    return MeteredWebClient(token=client.token, base_url=client.base_url,
                            team_id=client.default_params.get("team_id"),
                            timeout=_timeout(), retry_handlers=[])  # type: ignore[arg-type]


def ask_user(client: WebClient, user_id: str) -> Mapping[str, Any]:
    """Slack's account of a person (users.info `user`)."""
    return client.users_info(user=user_id).get("user") or {}


def ask_channels(client: WebClient, user_id: str, max_pages: int = 20) -> frozenset[str]:
    """The channels a person is in: public ones, and private ones the bot is in too (the
    only private channels the bot ever posts in)."""
    channels: set[str] = set()
    cursor = None
    for number in range(max_pages):
        if number and _deadline.get() is not None:  # a request's: what is left of its time
            client = quick(client)
        page = client.users_conversations(user=user_id, types="public_channel,private_channel",
                                          exclude_archived=True, limit=1000, cursor=cursor)
        found: list[dict[str, Any]] = page.get("channels", [])
        channels.update(channel["id"] for channel in found)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return frozenset(channels)


class Directory:
    """Slack's answers about people, kept briefly; one per process."""

    def __init__(self, keep: float = KEEP, clock: Callable[[], float] = time.monotonic):
        self.keep, self.clock = keep, clock
        self._kept: dict[tuple[str, str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def person(self, client: WebClient, team_id: str, user_id: str) -> Person:
        """Who `user_id` is; admin and guest are None when Slack did not answer."""
        user = self._ask("user", team_id, user_id, lambda: ask_user(quick(client), user_id))
        return Person.from_slack(user_id, user)

    def channels(self, client: WebClient, team_id: str, user_id: str) -> frozenset[str] | None:
        """The channels `user_id` is in, or None when Slack did not answer."""
        return self._ask("channels", team_id, user_id,
                         lambda: ask_channels(quick(client), user_id, MAX_PAGES))

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()

    def _ask(self, kind: str, team_id: str, user_id: str, ask: Callable[[], T]) -> T | None:
        key = (kind, team_id, user_id)
        now = self.clock()
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        try:
            answer = ask()
        except OutOfTime:
            log.warning("Slack did not answer in time (%s): the request's budget is spent",
                        kind)
            return None
        except SlackApiError as error:
            log.warning("Slack did not say (%s): %s", kind, error.response.get("error"))
            return None
        except OSError as error:  # unreachable, or too slow: socket timeouts are OSErrors
            log.warning("Slack did not answer (%s): %s", kind, type(error).__name__)
            return None
        with self._lock:
            if len(self._kept) > 50_000:  # a bound, not a policy: drop what has expired
                self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
            self._kept[key] = (now + self.keep, answer)
        return answer
