"""Tokens at rest: sealed with Fernet when TOKEN_ENCRYPTION_KEY is set, readable across a
key rotation (`python -m bot rotate-token-key`), and a wrong key said plainly."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import load_settings
from tests.kit.bot_server import BotServer
from tests.kit.workspaces import CLIENT_ID, CLIENT_SECRET, install, oauth_settings, stored_tokens

ROOT = Path(__file__).resolve().parents[1]
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def serve(database_url, fake_slack, keys: tuple[str, ...]) -> BotServer:
    return BotServer(oauth_settings(database_url, fake_slack.url, token_encryption_keys=keys))


def works(server: BotServer, fake_slack, text: str) -> bool:
    """A command in T_A is answered and its post goes out with T_A's real token."""
    before = len(fake_slack.succeeded("chat.postMessage"))
    if "Saved your win" not in server.slack.command(f"win {text}", team="T_A").text:
        return False
    fake_slack.wait_until(lambda: len(fake_slack.succeeded("chat.postMessage")) > before,
                          what="the post")
    post = fake_slack.succeeded("chat.postMessage")[-1]
    return text in post.blocks_text() and "T_A" in (post.token or "")


def rotate(database_url: str, keys: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=database_url, SLACK_CLIENT_ID=CLIENT_ID,
               SLACK_CLIENT_SECRET=CLIENT_SECRET, TOKEN_ENCRYPTION_KEY=keys)
    return subprocess.run([sys.executable, "-m", "bot", "rotate-token-key"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_tokens_are_sealed_at_rest_and_survive_a_key_rotation(database_url, fake_slack, db):
    server = serve(database_url, fake_slack, (OLD,))
    try:
        install(server, fake_slack, "T_A", rotating=True)
        assert works(server, fake_slack, "sealed")
    finally:
        server.stop()
    stored = stored_tokens(db)
    assert stored and not any(t.startswith("xox") or "T_A" in t for t in stored)
    # Refresh tokens are sealed too.
    with db.engine.connect() as connection:
        refresh = connection.exec_driver_sql(
            "SELECT bot_refresh_token FROM slack_bots").scalar_one()
    assert not refresh.startswith("xoxe")

    # The new key goes first, the old one stays after it; rotate; the old one can go.
    result = rotate(database_url, f"{NEW},{OLD}")
    assert result.returncode == 0, result.stderr
    assert "Re-encrypted" in result.stdout
    assert stored_tokens(db) != stored
    server = serve(database_url, fake_slack, (NEW,))
    try:
        assert works(server, fake_slack, "after the rotation")
    finally:
        server.stop()
    # The old key alone opens nothing now: refused, and said so in the log.
    server = serve(database_url, fake_slack, (OLD,))
    try:
        answer = server.slack.command("win with the wrong key", team="T_A")
        assert "Saved" not in answer.text
    finally:
        server.stop()


def test_tokens_stored_in_the_clear_are_read_and_sealed_by_the_rotation(
        database_url, fake_slack, db):
    server = serve(database_url, fake_slack, ())
    try:
        install(server, fake_slack, "T_A")
    finally:
        server.stop()
    assert all(t.startswith("xoxb-") for t in stored_tokens(db))
    server = serve(database_url, fake_slack, (NEW,))  # a key is set later
    try:
        assert works(server, fake_slack, "read in the clear")
    finally:
        server.stop()
    assert rotate(database_url, NEW).returncode == 0
    assert not any(t.startswith("xox") for t in stored_tokens(db))


def test_rotate_without_a_key_says_what_to_do(database_url):
    result = rotate(database_url, "")
    assert result.returncode == 2
    assert "TOKEN_ENCRYPTION_KEY" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("keys", ["not-a-key", f"{NEW},also-not"],
                         ids=["not-a-key", "second-not-a-key"])
def test_a_key_that_is_not_a_fernet_key_stops_the_start_with_a_message(tmp_path, keys):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(PYTHONPATH=str(ROOT), SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s",
               TOKEN_ENCRYPTION_KEY=keys, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run([sys.executable, "-m", "bot"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "not a Fernet key" in result.stderr and "new-token-key" in result.stderr
    assert "Traceback" not in result.stderr


def test_new_token_key_prints_a_key_that_works(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot", "new-token-key"],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    key = result.stdout.strip()
    Fernet(key)
    settings = load_settings({"TOKEN_ENCRYPTION_KEY": f" {key} , {OLD} "}, dotenv_path=None)
    assert settings.token_encryption_keys == (key, OLD)
    replace(settings, bot_token="x", signing_secret="s").require_credentials()
