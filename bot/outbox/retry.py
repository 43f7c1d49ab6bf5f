"""The retry rules, in one place: what a failure means for a row, how long to wait, and
when to give up.

- Slack is down or busy (a 5xx, a timeout, a lost connection, an error that means "later",
  a rate limit) or our database was: the row waits, with backoff capped at MAX_BACKOFF, as
  long as it takes. A post waits through an outage of any length.
- Slack refused it for good (any other Slack error): the row fails at once.
- Anything else went wrong (a bug, say): a fault. The row is retried with backoff too, and
  after MAX_FAULTS of them it fails. Either way the row's failure is the row's alone.

A 429 says when to come back and uses up nothing. Every other try is counted in the row's
attempts, which set the backoff.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from enum import StrEnum
from urllib.error import URLError

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError

from bot.services import cards

MAX_FAULTS = 10
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
# Of those, the ones after which Slack may have done it all the same ("fatal_error: it's
# possible some aspect of the operation succeeded before the error was raised").
UNSURE_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class Permanent(Exception):
    """This will never work: the row fails for good."""


class Unavailable(Exception):
    """Something the send needs is not to be had now (a token Slack would not refresh
    yet, a key that opens it): the row waits, as through an outage."""


class NotYet(Exception):
    """The row needs a message that is still on its way (an entry's, a debrief's): it waits,
    as through an outage, and gives nothing up."""


class Kind(StrEnum):
    WAIT = "wait"  # rate limited: come back after Retry-After, nothing used up
    OUTAGE = "outage"  # Slack (or the database) is not answering well: wait it out
    REFUSED = "refused"  # Slack said no for good
    FAULT = "fault"  # anything else: a few more tries, then the row fails


@dataclass(frozen=True)
class Failure:
    """What a failed send means. `unsure`: Slack may have done it all the same (its reply
    was lost, or the failure came after the call), so look before sending again."""

    kind: Kind
    error: str
    unsure: bool
    retry_after: float | None = None


def judge(error: BaseException) -> Failure:
    """Sort any exception raised while sending a row."""
    if isinstance(error, Permanent):
        return Failure(Kind.REFUSED, str(error), unsure=False)
    if isinstance(error, Unavailable):
        return Failure(Kind.OUTAGE, str(error)[:255], unsure=False)
    if isinstance(error, NotYet | cards.NotPostedYet):
        # Its card's own post is still on its way (it waits out outages too) or has just
        # failed, and then the entry goes to the channel: either way, not long.
        return Failure(Kind.OUTAGE, str(error), unsure=False)
    if isinstance(error, SlackApiError):
        return _slack(error)
    if isinstance(error, (URLError, OSError, http.client.HTTPException)):
        # Timeouts and dropped connections included: the request may have arrived.
        return Failure(Kind.OUTAGE, f"connection: {error}"[:255], unsure=True)
    if isinstance(error, OperationalError):  # the database: busy, timed out or away
        cause = error.orig if type(error) is OperationalError else error
        return Failure(Kind.OUTAGE, f"database: {type(cause).__name__}", unsure=True)
    # Its type only: a message may quote what people wrote, and this is logged and told.
    return Failure(Kind.FAULT, type(error).__name__, unsure=True)


def _slack(error: SlackApiError) -> Failure:
    status = error.response.status_code
    code = str(error.response.get("error") or f"http_{status}")
    if status == 429:
        retry_after = error.response.headers.get("Retry-After") or \
            error.response.headers.get("retry-after")
        # Slack says when to come back. At least a second, so it never spins.
        wait = max(float(retry_after), 1.0) if retry_after else None
        return Failure(Kind.WAIT, code, unsure=False, retry_after=wait)
    if status >= 500:  # Slack may have done it before it failed to answer
        return Failure(Kind.OUTAGE, code, unsure=True)
    if code in TRANSIENT_ERRORS:
        return Failure(Kind.OUTAGE, code, unsure=code in UNSURE_ERRORS)
    return Failure(Kind.REFUSED, code, unsure=False)


def backoff(attempts: int, base: float) -> float:
    """Seconds to wait after the given number of failed attempts (exponential, capped)."""
    return min(MAX_BACKOFF, base * (2 ** min(max(0, attempts - 1), 30)))


def gives_up(faults: int) -> bool:
    """Whether a row that hit `faults` faults should fail."""
    return faults >= MAX_FAULTS


def wait(attempts: int, base: float, retry_after: float | None) -> float:
    """Seconds until the next try: Slack's Retry-After wins over our own backoff."""
    return retry_after if retry_after is not None else backoff(attempts, base)
