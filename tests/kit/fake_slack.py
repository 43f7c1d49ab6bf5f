"""A fake Slack Web API on 127.0.0.1: answers like Slack and records every call.

Failures can be scripted per method: HTTP 429 with Retry-After, a 5xx, or `ok: false`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0001"


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    ok: bool = False  # what Slack answered: True only for a successful call
    response: dict[str, Any] = field(default_factory=dict)

    def blocks_text(self) -> str:
        """All the text a person would read in the call's message, blocks and fallback."""
        blocks = self.body.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return self.body.get("text", "") + "\n" + json.dumps(blocks, ensure_ascii=False)


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1


@dataclass
class FakeSlack:
    """Start with `start()`; `url` is the base URL to give the bot as SLACK_API_URL."""

    calls: list[Call] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # users.conversations: the channel ids each user is a member of.
    memberships: dict[str, list[str]] = field(default_factory=dict)
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _gates: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(init=False)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    # files_upload_v2: file id -> what getUploadURLExternal was told, and the bytes sent.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": lambda body: {"user_id": BOT_USER_ID, "bot_id": BOT_ID,
                                       "team_id": TEAM_ID, "user": "debrief",
                                       "team": "Test team", "url": "https://test.slack.com/"},
            "chat.postMessage": self._post_message,
            "chat.update": lambda body: {"channel": body.get("channel"), "ts": body.get("ts")},
            "chat.delete": lambda body: {"channel": body.get("channel"), "ts": body.get("ts")},
            "chat.postEphemeral": lambda body: {"message_ts": self._next_ts()},
            "conversations.join": lambda body: {"channel": {"id": body.get("channel")}},
            "views.open": lambda body: {"view": {"id": "V" + self._next_ts()}},
            "views.publish": lambda body: {"view": {"id": "V" + self._next_ts()}},
            "views.update": lambda body: {"view": {"id": body.get("view_id")}},
            "users.info": self._user_info,
            "users.conversations": self._user_conversations,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    # --- control ---

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def fail(self, method: str, *, status: int = 200, error: str | None = None,
             retry_after: int | None = None, times: int = 1) -> None:
        """Make the next `times` calls of `method` fail this way (queued after earlier ones)."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                Failure(status=status, error=error, retry_after=retry_after, times=times))

    def hold(self, method: str) -> threading.Event:
        """Keep every call of `method` waiting until the returned event is set."""
        gate = threading.Event()
        with self._lock:
            self._gates[method] = gate
        return gate

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def succeeded(self, method: str) -> list[Call]:
        """Calls of `method` that Slack answered with `ok: true`: what people would see."""
        return [call for call in self.calls_to(method) if call.ok]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `method` has been called (successfully or not) `count` times."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                calls = [c for c in self.calls if c.method == method]
                if len(calls) >= count:
                    return calls
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} call(s) to {method}, saw {len(calls)}: "
                        f"{[c.method for c in self.calls]}")
                self._changed.wait(left)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0,
                   what: str = "a condition") -> None:
        """Block until `predicate()` (re-checked after every call Slack receives) holds."""
        deadline = time.monotonic() + timeout
        while not predicate():  # outside the lock: the predicate may read the calls
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}: "
                                     f"{[c.method for c in self.calls]}")
            with self._changed:
                self._changed.wait(min(left, 0.05))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.users.clear()
            self.memberships.clear()
            self.files.clear()
            self._failures.clear()
            for gate in self._gates.values():
                gate.set()
            self._gates.clear()

    # --- serving ---

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = {"ts": ts, "text": body.get("text"), "bot_id": BOT_ID}
        if body.get("thread_ts"):
            message["thread_ts"] = body["thread_ts"]
        return {"channel": body.get("channel"), "ts": ts, "message": message}

    def _upload_url(self, body: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):08d}"
        with self._lock:
            self.files[file_id] = {"id": file_id, "filename": body.get("filename"),
                                   "length": int(body.get("length") or 0), "content": None,
                                   "shared": False}
        base = self.url.removesuffix("api/")
        return {"upload_url": f"{base}upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        completed = []
        for item in json.loads(body.get("files") or "[]"):
            record = self.files.get(item.get("id", ""))
            if record is None or record["content"] is None:
                raise _SlackError("file_not_found" if record is None else "file_upload_not_sent")
            record.update(title=item.get("title"), channel_id=body.get("channel_id"),
                          initial_comment=body.get("initial_comment"),
                          thread_ts=body.get("thread_ts"), shared=bool(body.get("channel_id")))
            completed.append({"id": record["id"], "title": record["title"]})
        return {"files": completed}

    def uploaded(self) -> list[dict[str, Any]]:
        """Files completed (shared) through files_upload_v2, with their bytes as `content`."""
        with self._lock:
            return [dict(f) for f in self.files.values() if f.get("title") is not None]

    def _receive_upload(self, request: BaseHTTPRequestHandler) -> None:
        """Step 2 of files_upload_v2: the bytes POSTed to the upload_url we handed out."""
        file_id = request.path.rsplit("/", 1)[-1]
        data = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        with self._changed:
            record = self.files.get(file_id)
            if record is not None:
                record["content"] = data
            self.calls.append(Call("upload", request.path, {"file_id": file_id},
                                   dict(request.headers.items()), ok=record is not None))
            self._changed.notify_all()
        status, answer = (200, f"OK - {len(data)}") if record else (404, "not found")
        request.send_response(status)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer.encode())

    def _receive_hook(self, request: BaseHTTPRequestHandler) -> None:
        """A POST to a response_url the test kit handed out: recorded as method
        "response_url" (what a person sees as the late answer to a command or button)."""
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0)).decode()
        body = json.loads(raw or "{}")
        with self._changed:
            self.calls.append(Call("response_url", request.path, body,
                                   dict(request.headers.items()), ok=True))
            self._changed.notify_all()
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", "2")
        request.end_headers()
        request.wfile.write(b"ok")

    def _user_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(body.get("user", ""))
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": user}

    def _user_conversations(self, body: dict[str, Any]) -> dict[str, Any]:
        # Two pages, as Slack paginates: the bot must follow next_cursor.
        channels = self.memberships.get(body.get("user", ""), [])
        half = len(channels) // 2
        page, rest = (channels[half:], "") if body.get("cursor") else (channels[:half], "next")
        if not half:
            page, rest = channels, ""
        return {"channels": [{"id": c, "is_channel": True, "is_member": True} for c in page],
                "response_metadata": {"next_cursor": rest}}

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.path.startswith("/upload/"):
            self._receive_upload(request)
            return
        if request.path.startswith("/hooks/"):
            self._receive_hook(request)
            return
        method = request.path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode()
        if "json" in (request.headers.get("Content-Type") or ""):
            body = json.loads(raw or "{}")
        else:
            body = dict(parse_qsl(raw))
        for key in ("blocks", "view", "attachments"):
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        call = Call(method, request.path, body, dict(request.headers.items()))
        with self._changed:
            self.calls.append(call)
            failure = self._take_failure(method)
            gate = self._gates.get(method)
            self._changed.notify_all()
        if gate is not None:
            gate.wait(timeout=30)
        status, headers, payload = self._answer(method, body, failure)
        call.ok = status == 200 and payload.get("ok") is True
        call.response = payload
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _take_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _answer(self, method: str, body: dict[str, Any],
                failure: Failure | None) -> tuple[int, dict[str, str], dict[str, Any]]:
        if failure is not None:
            if failure.status == 429:
                return 429, {"Retry-After": str(failure.retry_after or 1)}, \
                    {"ok": False, "error": "ratelimited"}
            if failure.status >= 500:
                return failure.status, {}, {"ok": False, "error": "internal_error"}
            return 200, {}, {"ok": False, "error": failure.error or "unknown_error"}
        handler = self.handlers.get(method)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        try:
            return 200, {}, {"ok": True, **handler(body)}
        except _SlackError as error:
            return 200, {}, {"ok": False, "error": str(error)}


class _SlackError(Exception):
    pass


def main() -> None:
    """`python -m tests.kit.fake_slack`: serve alone (for benchmarks); prints the URL."""
    fake = FakeSlack().start()
    print(fake.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
