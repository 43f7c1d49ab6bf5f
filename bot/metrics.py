"""What `GET /metrics` tells an operator, in the Prometheus text format (prometheus_client).

Counters and the request histogram live in each process; under gunicorn's several workers
prometheus_client's multiprocess mode adds them up (PROMETHEUS_MULTIPROC_DIR, set and
cleaned by bot/serving.py before the workers start). The outbox figures are read from the
database at scrape time, so every process reports the same. No label carries a user id
or anything people wrote: kinds are Slack's names for requests, methods Slack's methods.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.logs import note_work, request_kind

log = logging.getLogger(__name__)

SLACK_CALLS = Counter("debrief_slack_api_calls", "Slack Web API calls the bot made",
                      ["method", "result"])
REQUESTS = Counter("debrief_requests", "Requests from Slack, by kind", ["kind"])
REQUEST_SECONDS = Histogram(
    "debrief_request_duration_seconds", "Time to answer a request from Slack, by kind",
    ["kind"], buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0))


class MeteredWebClient(WebClient):
    """A WebClient that counts each Web API call by method and result: ok, rate_limited
    (HTTP 429) or error (any other failure, `ok: false` included)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        result = "error"
        try:
            response = super().api_call(api_method, **kwargs)
            result = "ok"
            return response
        except SlackApiError as error:
            if error.response.status_code == 429:
                result = "rate_limited"
            raise
        finally:
            SLACK_CALLS.labels(api_method, result).inc()


def metered(client: WebClient) -> MeteredWebClient:
    """The same client, counted. Bolt makes a plain WebClient for each request, which
    nothing else holds yet: it becomes a MeteredWebClient in place (the subclass adds
    behaviour, no state), where a copy would cost every request a client's construction.
    Any other client is copied."""
    if isinstance(client, MeteredWebClient):
        return client
    if type(client) is WebClient:
        client.__class__ = MeteredWebClient
        return cast(MeteredWebClient, client)
    return MeteredWebClient(token=client.token, base_url=client.base_url,
                            timeout=client.timeout, ssl=client.ssl, proxy=client.proxy,
                            headers=client.headers, team_id=client.default_params.get("team_id"),
                            logger=client.logger, retry_handlers=client.retry_handlers)


class Observe(Middleware):
    """Bolt's first middleware: the request's kind and workspace noted for the logs and
    the metrics, its Slack client counted (Bolt makes a plain one per request), and its
    questions about people (bot/directory.py) given one budget of time. A class: Bolt
    calls it as it is, where a function middleware has its arguments looked up by name
    on every request."""

    def __init__(self, start_request_budget: Callable[[], None]):
        self.start_request_budget = start_request_budget

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002 (Bolt's name)
        note_work(request_kind(req.body), req.context.team_id)
        client = req.context.client
        if client is not None:
            req.context["client"] = metered(client)
        self.start_request_budget()  # the listener runs after every middleware has returned
        return next()


def instrument(bolt: App) -> None:
    """Every request observed (`Observe`)."""
    from bot.directory import start_request_budget  # it counts its calls here too

    bolt.use(Observe(start_request_budget))


def observe_request(kind: str | None, seconds: float) -> None:
    requests, duration = _by_kind(kind or "unknown")
    requests.inc()
    duration.observe(seconds)


@functools.lru_cache(maxsize=256)
def _by_kind(kind: str) -> tuple[Any, Any]:
    # prometheus_client's labels() takes a lock and checks the names on every call.
    return REQUESTS.labels(kind), REQUEST_SECONDS.labels(kind)


class OutboxFigures(Collector):
    """The outbox as the database holds it, read at scrape time."""

    def __init__(self, figures: Callable[[], dict[str, float]]):
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("debrief_database_up",
                               "1 when the database answered the scrape's query")
        try:
            figures = self.figures()
        except Exception as error:  # a scrape must still answer when the database does not
            log.warning("outbox figures unavailable: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("debrief_outbox_pending", "Outbox rows waiting to be sent",
                                value=figures["pending"])
        yield GaugeMetricFamily("debrief_outbox_oldest_pending_seconds",
                                "Age of the oldest row waiting to be sent (0 when none)",
                                value=figures["oldest_pending_seconds"])
        yield GaugeMetricFamily("debrief_outbox_failed", "Outbox rows given up on",
                                value=figures["failed"])


class _ThisProcess(Collector):
    """The default registry's metrics (this process's, when not under multiprocess)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_dir() -> str | None:
    # prometheus_client reads the same variable when it is imported.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(figures: Callable[[], dict[str, float]]) -> tuple[bytes, str]:
    """The scrape's body and content type: every worker's counters and histograms
    added up (or this process's), and the outbox figures read now."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(OutboxFigures(figures))
    return generate_latest(registry), CONTENT_TYPE_LATEST
