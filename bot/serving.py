"""gunicorn's settings and hooks: `gunicorn --config python:bot.serving ...` (the Procfile's
web process and the Dockerfile's CMD); `python -m bot` serves with the same ones.

- It binds to $PORT (Settings), logs each request without its query string (an OAuth
  redirect's carries a code), and in JSON when LOG_FORMAT=json.
- On SIGTERM a worker stops accepting, answers what it holds, then hands the outbox back
  (Runtime.close): the whole stop fits in Docker's and Heroku's grace.
- The workers' metrics are added up by prometheus_client's multiprocess mode, in a
  directory emptied when the server starts.

This module must not import prometheus_client (nor anything that does): it picks its
mode when first imported, and the workers, forked from here, inherit it.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import tempfile
from collections.abc import MutableMapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from gunicorn import glogging
from gunicorn.workers.gthread import ThreadWorker

from bot.config import load_settings
from bot.logs import json_formatter

if TYPE_CHECKING:
    from gunicorn.glogging import _AtomsDict

_settings = load_settings()

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


# Set here, in the master, so that every worker imports prometheus_client in
# multiprocess mode; a directory of our own choosing is removed on exit.
_OWN_METRICS_DIR = not os.environ.get(METRICS_DIR_VARIABLE)
if _OWN_METRICS_DIR:
    os.environ[METRICS_DIR_VARIABLE] = os.path.join(
        tempfile.gettempdir(), f"debrief-metrics-{os.getpid()}")

bind = f"0.0.0.0:{_settings.port}"
worker_class = "bot.serving.Worker"
# Heroku and Docker send SIGKILL 30 s and 10 s after SIGTERM: all of a worker's stop
# (in-flight requests, kept-alive connections, the outbox's send in flight) fits in 9.
graceful_timeout = 9
# The outbox worker waits this long for a send in flight to Slack when stopping.
OUTBOX_STOP_SECONDS = 5.0
loglevel = _settings.log_level.lower()
# No control socket: nothing uses it, and servers on one host would share its path.
control_socket_disable = True
accesslog = "-"
# The path only: a query string may carry a secret (OAuth's code) or words.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


class Logger(glogging.Logger):
    """gunicorn's logger, writing JSON lines when LOG_FORMAT=json."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if _settings.log_format == "json":
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(json_formatter())

    def atoms(self, resp: Any, req: Any, environ: MutableMapping[str, Any],
              request_time: timedelta) -> _AtomsDict:
        """What access_log_format uses, and no more: gunicorn's own puts every request
        header and environ variable in, a tenth of a millisecond on every request."""
        status = resp.status
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "H": environ.get("SERVER_PROTOCOL"),
            "s": str(status).split(None, 1)[0],
            "b": str(sent) if sent is not None else "-",
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            "a": environ.get("HTTP_USER_AGENT", "-"),
        }


logger_class = Logger


class Worker(ThreadWorker):
    """gunicorn's threaded worker (gthread), which on SIGTERM also tells the bot at once:
    the outbox sends nothing more after the row in flight, and the scheduler claims
    nothing more, while the worker answers the requests it holds."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        first = self.alive  # Heroku signals the worker, and the master signals it again
        super().handle_exit(sig, frame)
        runtime = _runtime(self)
        if first and runtime is not None:
            runtime.stopping()
            self.log.info("worker %s stopping: no new work", self.pid)


def on_starting(server: Any) -> None:
    """In the master, before any worker: an empty metrics directory (counters left by
    an earlier run must not be added to this one's)."""
    directory = os.environ[METRICS_DIR_VARIABLE]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def on_exit(server: Any) -> None:
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ[METRICS_DIR_VARIABLE], ignore_errors=True)


def child_exit(server: Any, worker: Any) -> None:
    """In the master: a worker is gone; its live gauges go with it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """In the worker, once its app is loaded: it can serve, and stop cleanly.

    What loading made (modules, the app, its mappers and compiled statements: about
    100,000 objects) lives as long as the worker, so the garbage collector's full
    passes stop looking at it (gc.freeze). Each such pass, every few tens of thousands
    of surviving objects, otherwise paused every request in the worker for 50-90 ms."""
    # Cycles left by loading go first: a frozen object is still freed when nothing
    # refers to it, but a cycle among frozen objects is never collected.
    gc.collect()
    gc.freeze()
    worker.log.info("worker %s ready (%d objects from its start kept out of garbage "
                    "collection)", worker.pid, gc.get_freeze_count())


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker, once it answered what it held: stop the scheduler (if it runs
    one) and the outbox worker, whose send in flight finishes and whose other claims
    go back to the outbox for whichever process is up next."""
    runtime = _runtime(worker)
    if runtime is not None:
        runtime.close(OUTBOX_STOP_SECONDS)
        logging.getLogger("bot").info("worker %s stopped cleanly", worker.pid)


def _runtime(worker: Any) -> Any:
    """The bot's Runtime in a worker, once its app is loaded (bot/web.py)."""
    app = getattr(worker, "wsgi", None)
    return getattr(app, "extensions", {}).get("debrief") if app is not None else None


def settings() -> dict[str, Any]:
    """This module's gunicorn settings, for an in-process server (`python -m bot`)."""
    names = ("bind", "worker_class", "graceful_timeout", "loglevel", "control_socket_disable",
             "accesslog", "access_log_format", "logger_class", "on_starting", "on_exit",
             "child_exit", "post_worker_init", "worker_exit")
    return {name: globals()[name] for name in names}
