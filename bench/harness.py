"""What the benchmarks share: serving an app the Procfile's way, and a fresh database."""

from __future__ import annotations

import http.client
import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from bot.config import normalise_database_url
from tests.kit.slack_requests import sign

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_web(port: int, app: str = "bot.web:create_app()") -> list[str]:
    """The Procfile's web command serving `app` on 127.0.0.1:`port` (its config binds
    to $PORT on every address; a --bind given here wins)."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))
    args = shlex.split(line.split(":", 1)[1])
    args[-1] = app
    return [sys.executable, "-m", *args[:-1], "--bind", f"127.0.0.1:{port}", args[-1]]


class SlackConnection:
    """One sender's HTTP/1.1 connection to the app, as Slack would use it: keep-alive,
    renewed every `renew_every` requests.

    Slack delivers over many connections that come and go. A few connections kept for a
    whole run each stay with the gunicorn worker that happened to accept it; measured
    here with 8 senders and 2 workers, one worker often served most of them (0.8 of a core
    against 0.2), and the run measured that draw rather than the app. Renewing spreads
    the senders over the workers as they free up, for the bare app and ours alike."""

    def __init__(self, port: int, renew_every: int = 100):
        self.port = port
        self.renew_every = renew_every
        self._connection: http.client.HTTPConnection | None = None
        self._used = 0

    @staticmethod
    def signed(body: str, content_type: str, **extra: str) -> dict[str, str]:
        stamp = int(time.time())
        return {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(stamp),
                "X-Slack-Signature": sign(body, stamp), **extra}

    def ready(self) -> None:
        """Connect, or renew a connection that has served its share; call it before
        timing a request so the TCP handshake stays out of the figures."""
        if self._connection is None or self._used >= self.renew_every:
            self.close()
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self._connection.connect()
            self._used = 0

    def post(self, body: str, headers: dict[str, str]) -> int:
        """POST to /slack/events; the response's status once its body is read."""
        self.ready()
        assert self._connection is not None
        self._used += 1
        self._connection.request("POST", "/slack/events", body=body, headers=headers)
        answer = self._connection.getresponse()
        answer.read()
        return answer.status

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class CpuMeter:
    """CPU seconds (user + system) that a server's worker processes, and optionally the
    local PostgreSQL, used between `start` and `stop`. On a shared machine the wall clock
    moves with the neighbours; CPU per request moves much less."""

    def __init__(self, server: subprocess.Popen, postgres: bool = False):
        self.server = server
        self.postgres = postgres
        self.used: dict[str, float] = {}

    def _pids(self) -> dict[str, list[str]]:
        groups = {"app": _run(["pgrep", "-P", str(self.server.pid)])}
        if self.postgres:
            groups["postgres"] = _run(["pgrep", "-u", "postgres"])
        return groups

    def start(self) -> None:
        self._begin = {name: _cpu(pids) for name, pids in self._pids().items()}

    def stop(self) -> dict[str, float]:
        self.used = {name: _cpu(pids) - self._begin.get(name, 0.0)
                     for name, pids in self._pids().items()}
        return self.used


def _run(command: list[str]) -> list[str]:
    return subprocess.run(command, capture_output=True, text=True).stdout.split()


def _cpu(pids: list[str]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def postgres_schema(base: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema (as tests/conftest.py makes), and how to drop it."""
    base = normalise_database_url(base)
    schema = f"debrief_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop
