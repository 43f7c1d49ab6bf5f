"""Logging set-up. Payloads (what people wrote) are never logged at INFO or above.

Slack Bolt puts whole request bodies in some of its own messages: at INFO when a request's
signature fails (clock drift, a rotated secret), in warnings about unhandled requests, and
in Socket Mode's "unsuccessful result" lines. Bolt's loggers copy the filters of the logger
the app is given (`slack_logger`), so each such record is cut down to its first words
before any handler, ours or a test's, sees it.
"""

from __future__ import annotations

import logging
import re

# Where a Bolt message starts quoting the request or response: "(signature: …, body: {…})",
# "Unhandled request ({…})", "… result (status: 401, body: …)".
_PAYLOAD = re.compile(r"[({\[]|\bbody\b", re.IGNORECASE)
WITHHELD = "[request details withheld: they may hold what people wrote]"


class WithholdPayloads(logging.Filter):
    """Cuts a record at INFO or above down to the words before any quoted payload."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return True
        message = record.getMessage()
        found = _PAYLOAD.search(message)
        if found is not None:
            record.msg = f"{message[:found.start()].rstrip()} {WITHHELD}"
            record.args = None
        return True


def slack_logger() -> logging.Logger:
    """The logger to give Bolt (App(logger=…)) and the Socket Mode client: its filter is
    copied to every logger Bolt makes for the app."""
    logger = logging.getLogger("bot.slack")
    if not any(isinstance(f, WithholdPayloads) for f in logger.filters):
        logger.addFilter(WithholdPayloads())
    return logger


def configure_logging(level: str = "INFO") -> None:
    if logging.getLogger().handlers:
        return
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run of every job at INFO: twice a minute, saying nothing.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
