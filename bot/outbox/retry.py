"""The retry rules, in one place: which failures are worth another try, how long to wait,
and when to give up.

A 429 (rate limited) says when to come back and never uses up an attempt; a 5xx, a
connection failure or a Slack error that means "later" is retried with exponential backoff
until MAX_ATTEMPTS; anything else is permanent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from bot.services import cards

T = TypeVar("T")

MAX_ATTEMPTS = 25
MAX_BACKOFF = 300.0

# Slack errors that say "try again later" rather than "this will never work".
TRANSIENT_ERRORS = {
    "ratelimited",
    "rate_limited",  # chat.postMessage: "posted too many messages"
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}


class Retry(Exception):
    """Try again later. `counted`: whether this try uses up one of the row's attempts (a
    429 rate limit does not)."""

    def __init__(self, error: str, retry_after: float | None = None, *, counted: bool = True):
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after
        self.counted = counted


class Permanent(Exception):
    """This will never work: the row fails for good."""


def attempt(send: Callable[[], T]) -> T:
    """Run a sender's Slack call(s), sorting failures into Retry and Permanent."""
    try:
        return send()
    except cards.NotPostedYet as wait:
        # Counted: a card that is never posted must not keep its entries waiting forever.
        raise Retry(str(wait)) from wait
    except SlackApiError as error:
        status = error.response.status_code
        code = str(error.response.get("error") or f"http_{status}")
        if status == 429:
            retry_after = error.response.headers.get("Retry-After") or \
                error.response.headers.get("retry-after")
            # Not counted: Slack says when to come back, and a long rate limit is no
            # reason to give up. At least a second, so it never spins.
            delay = max(float(retry_after), 1.0) if retry_after else None
            raise Retry(code, delay, counted=False) from error
        if status >= 500 or code in TRANSIENT_ERRORS:
            raise Retry(code) from error
        raise Permanent(code) from error
    except (URLError, OSError, TimeoutError) as error:
        raise Retry(f"connection: {error}") from error


def backoff(attempts: int, base: float) -> float:
    """Seconds to wait after the given number of failed attempts (exponential, capped)."""
    return min(MAX_BACKOFF, base * (2 ** max(0, attempts - 1)))


def exhausted(attempts: int) -> bool:
    """Whether a row that failed `attempts` counted times should give up."""
    return attempts >= MAX_ATTEMPTS


def wait(attempts: int, base: float, retry_after: float | None) -> float:
    """Seconds until the next try: Slack's Retry-After wins over our own backoff."""
    return retry_after if retry_after is not None else backoff(attempts, base)
