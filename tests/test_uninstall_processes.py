"""Uninstalling, with real processes: `python -m bot` serving two installed workspaces gets
`app_uninstalled` for one while its post waits on a Slack outage; then two
`python -m bot.clock` start at once and the workspace's data is erased by one of them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import func, select

from bot.db.models import Entry
from bot.db.models import Workspace as WorkspaceRow
from tests.kit.slack_requests import SIGNING_SECRET, SlackSender
from tests.kit.workspaces import CLIENT_ID, CLIENT_SECRET, install, token_of
from tests.test_running import free_port, get
from tests.test_uninstall import token_rows

ROOT = Path(__file__).resolve().parents[1]


def environment(database_url: str, fake_slack, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SLACK_") and k != "TOKEN_ENCRYPTION_KEY"}
    env.update(PYTHONPATH=str(ROOT), SLACK_CLIENT_ID=CLIENT_ID,
               SLACK_CLIENT_SECRET=CLIENT_SECRET, SLACK_SIGNING_SECRET=SIGNING_SECRET,
               SLACK_API_URL=fake_slack.url, DATABASE_URL=database_url, **extra)
    return env


class Process:
    """`python -m MODULE`, its output gathered as it comes."""

    def __init__(self, module: str, env: dict[str, str], cwd: Path):
        self.popen = subprocess.Popen([sys.executable, "-m", module], cwd=cwd, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> str:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.reader.join(timeout=10)
        return self.output


def until(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def entries_of(db, team: str) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Entry)
                              .where(Entry.team_id == team))


def test_uninstall_then_erase_with_real_processes(database_url, fake_slack, db, tmp_path):
    port = free_port()
    env = environment(database_url, fake_slack, PORT=str(port), UNINSTALL_RETENTION_DAYS="0")
    web = Process("bot", env, tmp_path)
    clocks: list[Process] = []
    try:
        base = f"http://127.0.0.1:{port}"

        def listening() -> bool:
            try:
                return get(base + "/healthz")[0] == 200
            except OSError:
                assert web.popen.poll() is None, web.output
                return False

        until(listening, "the bot to listen")
        bot = SimpleNamespace(url=base)
        for team in ("T_A", "T_B"):
            install(bot, fake_slack, team)
        a_token = token_of(db, "T_A")
        slack = SlackSender(base)

        fake_slack.fail("chat.postMessage", status=503, times=1000)  # Slack is down
        assert "Saved your win" in slack.command("win waiting in A", team="T_A").text
        fake_slack.wait_for("chat.postMessage")  # it tried, and the post waits
        assert slack.event({"type": "app_uninstalled"}, team="T_A").status == 200
        uninstalled_at = len(fake_slack.calls)
        assert token_rows(db, "T_A") == 0

        fake_slack.heal("chat.postMessage")  # Slack is back
        assert "Saved your win" in slack.command("win sent in B", team="T_B").text
        fake_slack.wait_until(lambda: fake_slack.succeeded("chat.postMessage"),
                              what="B's post")
        time.sleep(1.0)  # the worker's next passes: nothing more for A
        after = fake_slack.calls[uninstalled_at:]
        assert a_token not in [c.token for c in after]
        assert [c.token for c in fake_slack.succeeded("chat.postMessage")] == \
            [token_of(db, "T_B")]
        assert entries_of(db, "T_A") == 1  # kept until the retention (0 days here) is over

        # Two clocks at once: each runs the erase job as it starts; one erases.
        clocks = [Process("bot.clock", env, tmp_path) for _ in range(2)]

        def erased() -> bool:
            with db.session() as session:
                return session.get(WorkspaceRow, "T_A") is None

        until(erased, "the erasure", timeout=60)
        until(lambda: all("clock started" in clock.output for clock in clocks),
              "both clocks", timeout=60)
        time.sleep(1.0)  # the slower clock's first pass, too
    finally:
        outputs = [clock.stop() for clock in clocks]
        web_output = web.stop()
    assert entries_of(db, "T_A") == 0 and entries_of(db, "T_B") == 1
    assert all("clock started" in out for out in outputs), outputs
    erasures = sum(out.count("erased the data of workspace T_A") for out in outputs)
    assert erasures == 1, outputs
    everything = web_output + "".join(outputs)
    assert "Traceback" not in everything, everything[everything.find("Traceback") - 300:]
