"""Running it: settings, `python -m bot`, /healthz, migrations, and the app files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from alembic import command as alembic
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.app import BOT_SCOPES
from bot.config import load_settings
from bot.db import Database, fulltext
from bot.db.fulltext import include_object
from bot.db.migrate import alembic_config, upgrade
from bot.db.models import Base
from bot.outbox.worker import OutboxWorker
from tests.kit.bot_server import BotServer, bot_settings

ROOT = Path(__file__).resolve().parents[1]


def test_postgres_urls_are_rewritten_for_sqlalchemy():
    settings = load_settings({"DATABASE_URL": "postgres://u:p@db:5432/x"}, dotenv_path=None)
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/x"


def test_defaults():
    settings = load_settings({}, dotenv_path=None)
    assert settings.database_url == "sqlite:///debrief.db"
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.socket_mode and not settings.oauth


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    env = tmp_path / ".env"
    env.write_text("SLACK_BOT_TOKEN=xoxb-from-file\nPORT=4000\n")
    settings = load_settings({"PORT": "5000"}, dotenv_path=env)
    assert settings.bot_token == "xoxb-from-file"
    assert settings.port == 5000


def test_socket_mode_needs_no_signing_secret():
    settings = load_settings({"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "xapp"},
                             dotenv_path=None)
    assert settings.missing() == []


def run_bot(tmp_path, *args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    clean.update(env or {})
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=clean,
                          capture_output=True, text=True, timeout=60)


def test_missing_credentials_are_named_without_a_traceback(tmp_path):
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    assert "manifest.yml" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_command_builds_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_bot(tmp_path, "migrate", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    database = Database(url)
    with database.engine.connect() as connection:
        assert "entries" in connection.dialect.get_table_names(connection)
    database.dispose()


def test_migrations_and_models_do_not_drift(database_url):
    database = Database(database_url)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    database.dispose()
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    from bot.db.sqlite import WRITER_TIMEOUT

    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as connection:  # a transaction, behind the writer lock
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # Waiting for a writer that does not take our lock, no longer than ours would.
        assert 0 < connection.exec_driver_sql("PRAGMA busy_timeout").scalar() \
            <= WRITER_TIMEOUT * 1000
    database.dispose()


def test_indexing_after_the_commit_migrates_both_ways(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"

    def log(text: str) -> None:
        # Plain SQL of the schema at 0007: the models may have columns added since.
        database = Database(url)
        with database.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO entries (team_id, channel_id, author_id, kind, text, visibility, "
                "anonymous, source, created_at, tags) VALUES ('T1', 'C1', 'U1', 'win', ?, "
                "'team', 0, 'command', '2026-11-20 10:00:00.000000', '')", (text,))
        database.dispose()

    def found(word: str) -> Sequence[str]:
        database = Database(url)
        with database.engine.begin() as connection:
            connection.exec_driver_sql(f"INSERT INTO {fulltext.FTS_TABLE}({fulltext.FTS_TABLE},"
                                       " rank) VALUES ('integrity-check', 1)")
            texts = connection.exec_driver_sql(
                f"SELECT entries.text FROM entries JOIN {fulltext.FTS_TABLE} ON entries.id = "
                f"{fulltext.FTS_TABLE}.rowid WHERE {fulltext.FTS_TABLE} MATCH ?",
                (word,)).scalars().all()
        database.dispose()
        return texts

    upgrade(url, "0007")
    log("indexed at once by 0007")
    upgrade(url)
    assert found("indexed") == ["indexed at once by 0007"]  # kept across the upgrade
    log("noted by 0008, indexed later")
    alembic.downgrade(alembic_config(url), "0007")  # indexes what was waiting
    assert found("noted") == ["noted by 0008, indexed later"]
    log("indexed at once again")
    assert found("again") == ["indexed at once again"]
    upgrade(url)


def test_sqlite_commits_leave_the_checkpoint_to_the_worker(tmp_path):
    # SQLite's default checkpoints inside whichever commit passes 1,000 log pages, with an
    # fsync: that request waited. Here commits only append, and checkpoint() copies it all.
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (body TEXT)")
    for _ in range(300):
        with database.engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO notes VALUES (?)", ("x" * 20_000,))
    busy, log_pages, copied = database.checkpoint()
    assert log_pages > 1_000  # no commit checkpointed on the way
    assert (busy, copied) == (0, log_pages)
    database.dispose()


def test_the_outbox_worker_checkpoints_sqlite(database_url, fake_slack, monkeypatch):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no write-ahead log of ours to checkpoint")
    results: list[tuple[int, int, int]] = []
    checkpoint = Database.checkpoint
    monkeypatch.setattr(Database, "checkpoint",
                        lambda self: results.append(checkpoint(self)) or results[-1])
    monkeypatch.setattr(OutboxWorker, "CHECKPOINT_EVERY", 0.0)  # after every pass
    server = BotServer(bot_settings(database_url, fake_slack.url))
    try:
        server.slack.command("win checkpointed")
        fake_slack.wait_for("chat.postMessage")
        # A pass after the post was recorded copies the whole log into the database.
        fake_slack.wait_until(lambda: len(results) >= 2 and results[-1][0] == 0
                              and results[-1][1] == results[-1][2] > 0,
                              what="a checkpoint after the post")
    finally:
        server.stop()


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_answers_when_the_database_does(bot):
    assert get(bot.url + "/healthz") == (200, {"ok": True, "db": "ok"})


def test_healthz_is_503_when_the_database_does_not(fake_slack):
    down = bot_settings("postgresql+psycopg://nobody@127.0.0.1:1/nothing", fake_slack.url)
    server = BotServer(down, start_worker=False)
    try:
        status, body = get(server.url + "/healthz")
    finally:
        server.stop()
    assert status == 503 and body["ok"] is False


# --- the Slack app files tell the truth about the code ---

def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_scopes_are_exactly_the_ones_the_code_uses():
    assert sorted(manifest()["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_manifest_points_every_url_at_slack_events():
    data = manifest()
    for command in data["features"]["slash_commands"]:
        assert command["url"].endswith("/slack/events")
    assert data["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    events = data["settings"].get("event_subscriptions")
    if events:
        assert events["request_url"].endswith("/slack/events")


def test_manifest_commands_are_the_ones_the_app_listens_to(bot):
    commands = {c["command"] for c in manifest()["features"]["slash_commands"]}
    for command in commands:
        answer = bot.slack.command("help", command=command)
        assert answer.status == 200, command


def test_procfile_has_release_web_and_clock():
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                 if line.strip())
    assert lines["release"] == "python -m bot migrate"
    assert lines["web"].startswith("gunicorn ") and "bot.web:create_app()" in lines["web"]
    assert lines["clock"] == "python -m bot.clock"


def test_readme_first_screen_has_the_two_commands():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert re.search(r"^make run$", first_screen, re.M)
    assert re.search(r"^make test$", first_screen, re.M)


@pytest.mark.parametrize("module", ["bot.web", "bot.clock", "bot.__main__"])
def test_entry_points_import(module):
    __import__(module)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_m_bot_migrates_serves_and_posts(tmp_path, fake_slack):
    """The README's run command, end to end: a fresh database, a signed command, a post."""
    import time

    from tests.kit.slack_requests import SIGNING_SECRET, SlackSender

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(PYTHONPATH=str(ROOT), PORT=str(port), SLACK_BOT_TOKEN="xoxb-run",
               SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake_slack.url,
               DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}")
    process = subprocess.Popen([sys.executable, "-m", "bot"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the bot did not start listening"
                time.sleep(0.1)
        assert (status, body) == (200, {"ok": True, "db": "ok"})
        answer = SlackSender(f"http://127.0.0.1:{port}").command("win it runs")
        assert "Saved your win" in answer.text
        post = fake_slack.wait_for("chat.postMessage")[0]
        assert "it runs" in post.blocks_text()
    finally:
        process.terminate()
        process.wait(timeout=30)
