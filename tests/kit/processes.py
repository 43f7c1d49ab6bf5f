"""The bot's processes run as an operator runs them, for tests and benchmarks: the
Procfile's `web` (gunicorn) and `clock`, and `python -m bot`, each a real process with its
own environment, stopped with a real signal."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.kit.slack_requests import SIGNING_SECRET, SlackSender

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    return dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                if line.strip())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(kind: str, port: int | None = None) -> list[str]:
    """The command line of `kind` ("web", "clock", "release" or "bot"), this Python's."""
    if kind == "bot":
        return [sys.executable, "-m", "bot"]
    args = shlex.split(procfile()[kind])
    if args[0] == "gunicorn":
        # Listen on loopback only; the Procfile's config binds every address on $PORT.
        return [sys.executable, "-m", "gunicorn", *args[1:-1],
                "--bind", f"127.0.0.1:{port}", args[-1]]
    assert args[0] == "python", args
    return [sys.executable, *args[1:]]


class Process:
    """One process of the bot. `output` is what it wrote (stdout and stderr)."""

    def __init__(self, kind: str, database_url: str, slack_url: str, workdir: Path,
                 **env: str):
        self.kind = kind
        self.port = free_port() if kind in ("web", "bot") else None
        self.log = workdir / f"{kind}-{time.monotonic_ns()}.log"
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("SLACK_", "PROMETHEUS_"))}
        environment.update(PYTHONPATH=str(ROOT), SLACK_BOT_TOKEN="xoxb-process",
                           SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack_url,
                           DATABASE_URL=database_url, LOG_LEVEL="INFO")
        if self.port is not None:
            environment["PORT"] = str(self.port)
        environment.update(env)
        self.env = environment
        self.workdir = workdir
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def slack(self) -> SlackSender:
        return SlackSender(self.url)

    def start(self, timeout: float = 30.0) -> Process:
        with open(self.log, "ab") as out:
            # Its own process group: a signal to the group reaches every process, as
            # Heroku sends SIGTERM to all of a dyno's.
            self.popen = subprocess.Popen(command(self.kind, self.port), cwd=self.workdir,
                                          env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        if self.port is not None:
            try:
                self.wait_ready(timeout)
            except BaseException:
                self.kill()  # never leave a server behind
                raise
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until /readyz says ready and every gunicorn worker has loaded the app."""
        args = command(self.kind, self.port)
        workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
        deadline = time.monotonic() + timeout
        while True:
            try:
                if get(self.url + "/readyz")[0] == 200 and \
                        len(re.findall(r"worker \d+ ready", self.output())) >= workers:
                    return
            except OSError:
                pass
            assert self.popen is not None and self.popen.poll() is None, self.output()
            assert time.monotonic() < deadline, f"{self.kind} not ready:\n{self.output()}"
            time.sleep(0.1)

    def send(self, signum: int, *, group: bool = False) -> None:
        assert self.popen is not None
        if group:
            os.killpg(self.popen.pid, signum)
        else:
            self.popen.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, *, group: bool = False,
             timeout: float = 20.0) -> tuple[int, float]:
        """Signal it and wait for it to exit: its exit status and the seconds it took."""
        started = time.monotonic()
        self.send(signum, group=group)
        assert self.popen is not None
        status = self.popen.wait(timeout)
        return status, time.monotonic() - started

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def workers(self) -> list[int]:
        """The pids of a gunicorn master's workers."""
        assert self.popen is not None
        found = subprocess.run(["pgrep", "-P", str(self.popen.pid)], capture_output=True,
                               text=True).stdout.split()
        return [int(pid) for pid in found]


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(url: str) -> tuple[int, Any]:
    status, body = get(url)
    return status, json.loads(body)
