"""Logging set-up. Payloads (what people wrote) are never logged at INFO or above.

Slack Bolt puts whole request bodies in some of its own messages: at INFO when a request's
signature fails (clock drift, a rotated secret), in warnings about unhandled requests, and
in Socket Mode's "unsuccessful result" lines. Bolt's loggers copy the filters of the logger
the app is given (`slack_logger`), so each such record is cut down to its first words
before any handler, ours or a test's, sees it.

`LOG_FORMAT=json` writes one JSON object a line (time, level, logger, message), with the
request's kind and workspace when the line was written for one: the unit of work a
request, an outbox send or a clock job runs in says so with `working_on`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

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


class DropTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and, given our token-less
    client as well, warns at every start that the token "will be unused". Without OAuth
    it is used: bot/identity.py hands it to each request, and the notice would only send
    people looking for a fault that is not there. With OAuth it is indeed ignored, and
    build_app (bot/app.py) says so in words of its own."""

    NOTICE = warning_client_prioritized_and_token_skipped()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.NOTICE


def slack_logger() -> logging.Logger:
    """The logger to give Bolt (App(logger=…)) and the Socket Mode client: its filters are
    copied to every logger Bolt makes for the app."""
    logger = logging.getLogger("bot.slack")
    for kind in (WithholdPayloads, DropTokenNotice):
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
    return logger


@dataclass
class Work:
    """What the current thread is doing, as far as logs and metrics may tell: never
    text people wrote, nor a user id. `kind` e.g. "command /debrief", "event
    reaction_added", "outbox post_entry"; `workspace` the team id."""

    kind: str | None = None
    workspace: str | None = None


_work: ContextVar[Work | None] = ContextVar("debrief_work", default=None)


def current_work() -> Work | None:
    return _work.get()


@contextmanager
def working_on(kind: str | None = None, workspace: str | None = None) -> Iterator[Work]:
    """Mark the lines logged inside the block with `kind` and `workspace` (filled in
    later by whoever learns them, e.g. Bolt's middleware for an HTTP request)."""
    work = Work(kind, workspace)
    token = _work.set(work)
    try:
        yield work
    finally:
        _work.reset(token)


def note_work(kind: str, workspace: str | None) -> None:
    """Fill in the current request's kind and workspace (Bolt's middleware does, once
    it has read the body); outside `working_on`, start a record for this thread."""
    work = _work.get()
    if work is None:
        _work.set(Work(kind, workspace))
    else:
        work.kind, work.workspace = kind, workspace


class WorkFilter(logging.Filter):
    """Adds `kind` and `workspace` to each record written while they are known."""

    def filter(self, record: logging.LogRecord) -> bool:
        work = _work.get()
        if work is not None:
            if work.kind and not hasattr(record, "kind"):
                record.kind = work.kind
            if work.workspace and not hasattr(record, "workspace"):
                record.workspace = work.workspace
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object a line: time, level, logger, message, and kind and workspace
    when the record has them (an exception's traceback as exc_info)."""
    return JsonFormatter(["levelname", "name", "message"],
                         rename_fields={"levelname": "level", "name": "logger"},
                         timestamp="time")


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return json_formatter()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(WorkFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every run of every job at INFO: twice a minute, saying nothing.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))


def request_kind(body: dict[str, Any]) -> str:
    """What a Slack request is, in words that carry nothing a person wrote: the
    command's name, the event's type, or the payload's type."""
    if body.get("command"):
        return _word(f"command {body['command']}")
    if body.get("type") == "event_callback":
        return _word(f"event {(body.get('event') or {}).get('type')}")
    return _word(str(body.get("type") or "request"))


@functools.lru_cache(maxsize=256)  # a few names, on every request
def _word(kind: str) -> str:
    # Slack's names are short words; anything else is cut, so a label stays small.
    cleaned = "".join(c for c in kind if c.isalnum() or c in " /_.-")
    return cleaned[:48] or "request"
