"""Events that arrive while the database cannot take them are kept on disk, not lost.

Slack retries a failed event three times within about five minutes, then drops it: a
database outage longer than that would lose reactions and Home openings. So when an
event's unit of work fails because the database is unreachable (or busy past its time
limit), its body is written to the spool directory (one file per workspace and event id,
so Slack's retries of it are one file), fsynced, and Slack is told 200. A thread replays
the files through the same Bolt app when the database answers again; the event's id is
recorded with its effect (listeners/unit.py), so a replay, or two processes replaying the
same file, has its effect once. Event bodies carry ids and emoji, never what people wrote.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9_-]")
# Seconds between attempts to replay while files wait.
RETRY_SECONDS = 5.0

Dispatch = Callable[[dict[str, Any]], int]  # an event body -> the HTTP status Bolt gave


class EventSpool:
    """The spool directory of one deployment (any process may replay any file)."""

    def __init__(self, directory: str | Path, retry_seconds: float = RETRY_SECONDS):
        self.directory = Path(directory)
        self.retry_seconds = retry_seconds
        self._dispatch: Dispatch | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._replaying = threading.Lock()

    def keep(self, body: dict[str, Any]) -> bool:
        """Write an event body durably; False if it is not an event or cannot be kept."""
        event_id = body.get("event_id")
        if body.get("type") != "event_callback" or not event_id:
            return False
        name = f"{_SAFE.sub('_', str(body.get('team_id') or ''))}-{_SAFE.sub('_', event_id)}"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = self.directory / f".{name}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as out:
                json.dump(body, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.directory / f"{name}.json")  # a retry overwrites
        except OSError as error:
            log.error("could not spool an event: %s", type(error).__name__)
            return False
        self._wake.set()
        return True

    def waiting(self) -> list[Path]:
        """The spooled events, oldest first."""
        if not self.directory.is_dir():
            return []
        files = [p for p in self.directory.glob("*.json") if p.is_file()]
        return sorted(files, key=lambda p: p.stat().st_mtime)

    def replay(self) -> int:
        """Apply every spooled event the app now takes (2xx); how many were applied. Stops
        at the first that still fails: the database is not back yet."""
        if self._dispatch is None:
            return 0
        applied = 0
        with self._replaying:
            for path in self.waiting():
                try:
                    body = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue  # another process took it meanwhile, or half a file
                status = self._dispatch(body)
                if status >= 300:
                    break
                path.unlink(missing_ok=True)
                applied += 1
        if applied:
            log.info("replayed %s spooled event(s)", applied)
        return applied

    def start(self, dispatch: Dispatch) -> None:
        """Replay through `dispatch` now and whenever events wait, in a daemon thread."""
        self._dispatch = dispatch
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="event-spool", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            if self.waiting():
                try:
                    self.replay()
                except Exception:
                    log.exception("replaying spooled events failed")
                self._wake.wait(self.retry_seconds)
            else:
                self._wake.wait(self.retry_seconds * 6)
