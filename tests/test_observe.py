"""Observing it (PRODUCT.md §8): /readyz, /metrics, JSON logs and access logs."""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from sqlalchemy import text

from bot.db.migrate import upgrade
from bot.db.models import OutboxMessage, OutboxStatus
from bot.logs import WorkFilter, json_formatter, working_on
from bot.metrics import MeteredWebClient, metered
from bot.services import entries as entry_service
from tests.kit.bot_server import BotServer, bot_settings
from tests.kit.processes import Process, get, get_json


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A scrape's samples by name and labels."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# --- readiness ---

def test_readyz_is_200_when_the_database_answers_at_the_newest_schema(bot):
    assert get_json(bot.url + "/readyz") == (200, {"ok": True, "db": "ok", "schema": "current"})


def test_readyz_is_503_when_the_schema_is_behind(tmp_path, fake_slack):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0009")  # a release not yet migrated
    server = BotServer(bot_settings(url, fake_slack.url), start_worker=False)
    try:
        status, body = get_json(server.url + "/readyz")
        assert get_json(server.url + "/healthz")[0] == 200  # alive all the same
    finally:
        server.stop()
    assert (status, body) == (503, {"ok": False, "db": "ok", "schema": "behind"})


def test_readyz_is_503_when_the_database_carries_a_revision_this_code_does_not_know(
        bot, db):
    with db.engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        connection.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    try:
        assert get_json(bot.url + "/readyz") == (503, {"ok": False, "db": "ok",
                                                       "schema": "unknown"})
    finally:  # PostgreSQL's test schema serves the tests after this one
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"),
                               {"head": head})


def test_readyz_is_503_when_the_database_does_not_answer(fake_slack):
    down = bot_settings("postgresql+psycopg://nobody@127.0.0.1:1/nothing", fake_slack.url)
    server = BotServer(down, start_worker=False)
    try:
        assert get_json(server.url + "/readyz") == (503, {"ok": False, "db": "unavailable"})
    finally:
        server.stop()


# --- metrics ---

def test_metrics_count_requests_slack_calls_and_read_the_outbox(bot, fake_slack, db):
    before = samples(get(bot.url + "/metrics")[1])
    fake_slack.fail("chat.postMessage", status=429, retry_after=1)
    secret = f"my private words {uuid.uuid4().hex}"
    bot.slack.command(f"win {secret}", user="U_SECRET_PERSON")
    fake_slack.wait_for("chat.postMessage", 2, timeout=15)
    bot.settle()
    with db.session() as session:  # one the outbox gave up on, one waiting
        session.add_all([OutboxMessage(team_id="T0001", action="ephemeral", channel_id="C1",
                                       status=OutboxStatus.FAILED),
                         OutboxMessage(team_id="T0001", action="ephemeral", channel_id="C1",
                                       next_attempt_at=entry_service.utcnow().replace(
                                           year=2999))])
        session.commit()
    status, body = get(bot.url + "/metrics")
    after = samples(body)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert status == 200
    assert grew("debrief_requests_total", kind="command /debrief") == 1
    assert grew("debrief_request_duration_seconds_count", kind="command /debrief") == 1
    assert grew("debrief_slack_api_calls_total", method="chat.postMessage",
                result="rate_limited") == 1
    assert grew("debrief_slack_api_calls_total", method="chat.postMessage", result="ok") == 1
    assert value(after, "debrief_outbox_pending") == 1
    assert value(after, "debrief_outbox_failed") == 1
    assert value(after, "debrief_outbox_oldest_pending_seconds") >= 0
    assert value(after, "debrief_database_up") == 1
    # Nothing a person wrote, and no user id, in any label or value.
    assert "U_SECRET_PERSON" not in body.decode() and "private" not in body.decode()


def test_slack_calls_that_fail_are_counted_as_errors(bot, fake_slack):
    before = samples(get(bot.url + "/metrics")[1])
    fake_slack.fail("chat.postMessage", status=500)
    bot.slack.command("win counted")
    fake_slack.wait_for("chat.postMessage", 2, timeout=15)
    bot.settle()
    after = samples(get(bot.url + "/metrics")[1])
    for result in ("error", "ok"):
        labels = {"method": "chat.postMessage", "result": result}
        assert value(after, "debrief_slack_api_calls_total", **labels) - \
            value(before, "debrief_slack_api_calls_total", **labels) == 1


def test_a_requests_own_slack_calls_are_counted(bot, fake_slack):
    # `/debrief` alone opens the form with the client Bolt made for this request.
    labels = {"method": "views.open", "result": "ok"}

    def opened() -> float:
        return value(samples(get(bot.url + "/metrics")[1]), "debrief_slack_api_calls_total",
                     **labels)

    before = opened()
    bot.slack.command("")
    fake_slack.wait_for("views.open")
    # Counted once Slack's answer is back, a moment after Slack saw the call.
    deadline = time.monotonic() + 10
    while opened() == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert opened() - before == 1


def test_bolts_per_request_client_is_counted_as_it_is():
    client = WebClient(token="xoxb-request", base_url="http://127.0.0.1:9/api/")
    assert metered(client) is client and isinstance(client, MeteredWebClient)
    assert client.token == "xoxb-request" and client.base_url == "http://127.0.0.1:9/api/"
    custom = type("Custom", (WebClient,), {})(token="xoxb-other")
    copy = metered(custom)  # anyone else's client is left as it is
    assert copy is not custom and isinstance(copy, MeteredWebClient)
    assert type(custom).__name__ == "Custom" and copy.token == "xoxb-other"


def test_the_oldest_pending_age_is_read_from_the_database(bot, db):
    with db.session() as session:
        session.add(OutboxMessage(
            team_id="T0001", action="ephemeral", channel_id="C1",
            created_at=entry_service.utcnow().replace(microsecond=0) - _minutes(10),
            next_attempt_at=entry_service.utcnow().replace(year=2999)))
        session.commit()
    found = samples(get(bot.url + "/metrics")[1])
    assert 600 <= value(found, "debrief_outbox_oldest_pending_seconds") < 700


def _minutes(n: int):
    from datetime import timedelta

    return timedelta(minutes=n)


def test_metrics_add_up_every_gunicorn_worker(database_url, fake_slack, tmp_path):
    """The Procfile's web with its 2 workers: whichever worker answers a scrape, it
    reports every worker's requests and Slack calls, and the same outbox figures."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by an earlier run")
    web = Process("web", database_url, fake_slack.url, tmp_path,
                  PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    web.start()
    try:
        assert len(web.workers()) == 2
        commands = 24
        for n in range(commands):  # a connection each: the workers share them out
            assert "Saved your win" in web.slack.command(f"win across workers {n}",
                                                         channel=f"C{n}").text
        fake_slack.wait_until(lambda: len(fake_slack.succeeded("chat.postMessage")) >= commands,
                              timeout=30, what="every post")
        fake_slack.wait_until(  # every post recorded as sent, and so counted
            lambda: value(samples(get(web.url + "/metrics")[1]), "debrief_outbox_pending") == 0,
            what="an empty outbox")
        assert not (metrics_dir / "counter_1.db").exists()  # cleaned at start
        writers = {int(path.stem.split("_")[-1]) for path in metrics_dir.glob("*.db")}
        assert writers == set(web.workers())  # both workers counted some of it
        scrapes = [samples(get(web.url + "/metrics")[1]) for _ in range(6)]
    finally:
        web.stop()
    for found in scrapes:
        assert value(found, "debrief_requests_total", kind="command /debrief") == commands
        assert value(found, "debrief_slack_api_calls_total", method="chat.postMessage",
                     result="ok") == commands
        assert value(found, "debrief_outbox_pending") == 0


# --- logs ---

def json_lines(handler_output: str) -> list[dict]:
    return [json.loads(line) for line in handler_output.splitlines() if line.strip()]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the root logger writes, as LOG_FORMAT=json writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(WorkFilter())
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_json_logs_are_one_object_a_line_with_the_work_they_were_written_for(json_log):
    log = logging.getLogger("bot.test")
    with working_on("event reaction_added", "T0042"):
        log.warning("something to say")
    log.warning("outside any request")
    first, second = json_lines(json_log.getvalue())
    assert first["level"] == "WARNING" and first["logger"] == "bot.test"
    assert first["message"] == "something to say"
    assert (first["kind"], first["workspace"]) == ("event reaction_added", "T0042")
    assert "time" in first
    assert "kind" not in second and "workspace" not in second


def test_a_failing_request_logs_its_kind_and_workspace_but_not_the_text(
        bot, json_log, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(entry_service, "log_entry", broken)
    answer = bot.slack.command("win secret words of a person", team="T0001")
    assert "Something went wrong" in answer.text
    lines = json_lines(json_log.getvalue())
    failures = [line for line in lines if line["level"] == "ERROR"]
    assert failures, lines
    assert failures[0]["kind"] == "command /debrief"
    assert failures[0]["workspace"] == "T0001"
    assert "secret words" not in json_log.getvalue()


def test_gunicorn_logs_json_lines_and_requests_without_their_query(database_url, fake_slack,
                                                                   tmp_path):
    web = Process("web", database_url, fake_slack.url, tmp_path, LOG_FORMAT="json")
    web.start()
    try:
        get(web.url + "/healthz?code=SECRET-OAUTH-CODE&text=private+words")
        web.slack.command("win logged as json")
        fake_slack.wait_for("chat.postMessage")
    finally:
        status, _ = web.stop()
    assert status == 0
    output = web.output()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert any(re.search(r'"GET /healthz HTTP/1.1" 200', line["message"]) for line in access)
    assert any('"POST /slack/events HTTP/1.1" 200' in line["message"] for line in access)
    assert "SECRET-OAUTH-CODE" not in output and "private" not in output
    assert "logged as json" not in output
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)


def test_web_keeps_its_workers_metrics_in_a_temporary_directory_it_removes(
        database_url, fake_slack, tmp_path):
    """Without PROMETHEUS_MULTIPROC_DIR (README: "a directory in /tmp"), web keeps its
    workers' counts in a directory of its own under the temporary directory, from which
    /metrics adds them up, and leaves nothing behind when it stops."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    web = Process("web", database_url, fake_slack.url, tmp_path, TMPDIR=str(temporary))
    assert "PROMETHEUS_MULTIPROC_DIR" not in web.env
    web.start()
    try:
        assert web.popen is not None
        (directory,) = temporary.glob("debrief-metrics-*")
        assert directory.name == f"debrief-metrics-{web.popen.pid}"  # the master's
        for n in range(4):
            assert "Saved your win" in web.slack.command(f"win counted {n}",
                                                         channel=f"C{n}").text
        found = samples(get(web.url + "/metrics")[1])
        writers = {int(path.stem.split("_")[-1]) for path in directory.glob("*.db")}
        workers = set(web.workers())
    finally:
        status, _ = web.stop()
    assert status == 0
    assert value(found, "debrief_requests_total", kind="command /debrief") == 4
    assert writers and writers <= workers  # the workers counted there
    assert list(temporary.glob("debrief-metrics-*")) == []


def test_readiness_knows_the_migrations_as_alembic_does():
    from alembic.script import ScriptDirectory

    from bot.db.migrate import alembic_config, revisions

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known, heads = revisions()
    assert heads == set(scripts.get_heads())
    assert known == {script.revision for script in scripts.walk_revisions()}
