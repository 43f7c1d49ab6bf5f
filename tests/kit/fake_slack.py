"""A fake Slack Web API on 127.0.0.1: answers like Slack and records every call.

Failures can be scripted per method: HTTP 429 with Retry-After, a 5xx, or `ok: false`;
or Slack does the call and its reply is lost (`lose_reply`). The messages the bot posted
are kept as Slack keeps them (`posts`): updated, deleted, with their metadata, and found
again through conversations.history / conversations.replies. Block Kit's limits are
checked as Slack checks them, so a message Slack would refuse is refused here too.

Many workspaces: `grant` a token to a workspace (auth.test then answers for it, and every
call records the token it came with), `install_code` scripts what `oauth.v2.access` hands
out for a code (rotating tokens too, refreshed with grant_type=refresh_token), `revoke`
makes a token fail as Slack's do after an uninstall. A token nobody granted is the test
workspace's (T0001), so single-workspace tests need none of this. What the bot posts to a
`response_url` (…/hooks/…) is recorded as calls to "response_url".
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0001"

# Block Kit's limits as Slack enforces them on a message (counted in UTF-16 code units, as
# Slack's JavaScript does). MESSAGE_TEXT is not documented: Slack answers
# msg_blocks_too_long above about 12,000 characters of text across a message's blocks.
SECTION_TEXT, HEADER_TEXT, MESSAGE_BLOCKS, MESSAGE_TEXT = 3000, 150, 50, 12_000


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    ok: bool = False  # what Slack answered: True only for a successful call
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def token(self) -> str | None:
        """The token the call was made with (Bearer), if any."""
        auth = self.headers.get("Authorization") or self.headers.get("authorization") or ""
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

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
class Grant:
    """A bot token Slack handed out: whose it is, and until when it works."""

    team_id: str | None
    enterprise_id: str | None = None
    org_install: bool = False
    expires_at: float | None = None  # time.time(); None: never expires
    revoked: bool = False


@dataclass
class Install:
    """What oauth.v2.access answers for one code."""

    team_id: str | None
    team_name: str = "Acme"
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    org_install: bool = False
    rotating: bool = False
    expires_in: int = 43200  # Slack's rotating tokens live 12 hours


@dataclass
class FakeSlack:
    """Start with `start()`; `url` is the base URL to give the bot as SLACK_API_URL."""

    calls: list[Call] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # users.conversations: the channel ids each user is a member of; someone not listed
    # is in `everyone_in` (the kit's own channel) only. users.info answers a plain member
    # (not an admin, not a guest) for anyone not in `users`, unless they are `gone`.
    memberships: dict[str, list[str]] = field(default_factory=dict)
    everyone_in: tuple[str, ...] = ("C_TEAM",)
    gone: set[str] = field(default_factory=set)
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _gates: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(init=False)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    # files_upload_v2: file id -> what getUploadURLExternal was told, and the bytes sent.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The messages Slack holds, by (channel, ts), in the order they were posted.
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Replies to lose: by method, or by (method, channel).
    _losses: dict[str | tuple[str, str], int] = field(default_factory=dict)
    _observers: list[Callable[[Call], None]] = field(default_factory=list)
    _last_ts: tuple[int, int] = (0, 0)
    grants: dict[str, Grant] = field(default_factory=dict)
    codes: dict[str, Install] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh -> access token
    # Whether a refresh token works once (a refresh hands out a new one and revokes the
    # one used); otherwise it keeps working, as before.
    refresh_once: bool = False
    # users.conversations: channels per page (None: two pages, halves of the list).
    page_size: int | None = None
    # Seconds calls of one method take to answer, on top of `latency` (`slow`).
    _delays: dict[str, float] = field(default_factory=dict)
    # apps.connections.open answers this (the Socket Mode double's address).
    socket_url: str | None = None
    # Seconds each call takes to answer (Slack's own round trip is 0.1 s or more).
    latency: float = 0.0
    # chaos(): the share of calls answered with a 5xx, and with a 429.
    _chaos: tuple[float, float] = (0.0, 0.0)
    _random: random.Random = field(default_factory=lambda: random.Random(13))

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "oauth.v2.access": self._oauth_access,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.delete": self._delete_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "files.delete": self._delete_file,
            "files.list": self._list_files,
            "conversations.open": self._open_dm,
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

            def do_GET(self) -> None:  # noqa: N802 (files.list is a GET in slack_sdk)
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a caller that gave up waiting (its timeout): nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
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

    def lose_reply(self, method: str, times: int = 1, *, channel: str | None = None) -> None:
        """The next `times` calls of `method` (to `channel` only, if given: a user id for
        a DM) are done (a message is stored) but their reply never arrives: the
        connection drops, as when a network path fails."""
        key: str | tuple[str, str] = method if channel is None else (method, channel)
        with self._lock:
            self._losses[key] = self._losses.get(key, 0) + times

    def heal(self, method: str | None = None) -> None:
        """Slack is healthy again (for `method`, or for everything): scripted failures
        and lost replies still queued are dropped."""
        with self._lock:
            if method is not None:
                self._failures.pop(method, None)
                for key in [k for k in self._losses if k == method or k[0] == method]:
                    self._losses.pop(key)
                return
            self._failures.clear()
            self._losses.clear()
            self._chaos = (0.0, 0.0)

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The messages Slack holds now (posted, not deleted), oldest first: what people
        scrolling the channel would see. A user id stands for the bot's DM with them."""
        channel = _dm(channel) if channel else channel
        with self._lock:
            return [dict(m) for m in self.messages.values()
                    if channel is None or m["channel"] == channel]

    def observe(self, look: Callable[[Call], None]) -> None:
        """Call `look` with every call as it arrives, before it is answered (in the
        server's thread, while the caller waits for the answer); until `reset`."""
        with self._lock:
            self._observers.append(look)

    def chaos(self, server_errors: float, rate_limits: float, seed: int = 13) -> None:
        """Answer a share of all calls (auth.test aside) with a 5xx and another with a
        429 (Retry-After: 1), at random: a Slack having a bad day."""
        with self._lock:
            self._chaos = (server_errors, rate_limits)
            self._random = random.Random(seed)

    def slow(self, method: str, seconds: float) -> None:
        """Every call of `method` takes `seconds` to answer (until `reset`)."""
        with self._lock:
            self._delays[method] = seconds

    def hold(self, method: str) -> threading.Event:
        """Keep every call of `method` waiting until the returned event is set."""
        gate = threading.Event()
        with self._lock:
            self._gates[method] = gate
        return gate

    # --- workspaces and tokens ---

    def grant(self, token: str, team_id: str | None, *, enterprise_id: str | None = None,
              org_install: bool = False, expires_in: float | None = None) -> str:
        """`token` works for this workspace (or org) from now on (for `expires_in` s)."""
        with self._lock:
            self.grants[token] = Grant(team_id, enterprise_id, org_install,
                                       time.time() + expires_in if expires_in else None)
        return token

    def revoke(self, token: str) -> None:
        """The token is revoked, as Slack does when the app is uninstalled."""
        with self._lock:
            self.grants.setdefault(token, Grant(TEAM_ID)).revoked = True

    def install_code(self, code: str, team_id: str | None, **install: Any) -> None:
        """oauth.v2.access with this code installs the app in the workspace (or org)."""
        with self._lock:
            self.codes[code] = Install(team_id, **install)

    def tokens_used(self, method: str) -> list[str | None]:
        return [call.token for call in self.calls_to(method)]

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
            self.grants.clear()
            self.codes.clear()
            self.refresh_tokens.clear()
            self.refresh_once = False
            self.page_size = None
            self._delays.clear()
            self.socket_url = None
            self.calls.clear()
            self.users.clear()
            self.memberships.clear()
            self.gone.clear()
            self.files.clear()
            self.messages.clear()
            self._losses.clear()
            self._observers.clear()
            self._failures.clear()
            self._chaos = (0.0, 0.0)
            for gate in self._gates.values():
                gate.set()
            self._gates.clear()

    # --- serving ---

    def _next_ts(self) -> str:
        """A message ts as Slack makes them: the time it was stored, unique, increasing."""
        with self._lock:
            seconds, n = self._last_ts
            now = int(time.time())
            self._last_ts = (now, 1) if now > seconds else (seconds, n + 1)
            return f"{self._last_ts[0]}.{self._last_ts[1]:06d}"

    def _grant_of(self, token: str | None) -> Grant:
        grant = self.grants.get(token or "")
        return grant if grant is not None else Grant(TEAM_ID)

    def _auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        grant = self._grant_of(body.get("token"))
        answer: dict[str, Any] = {"user_id": BOT_USER_ID, "bot_id": BOT_ID,
                                  "team_id": grant.team_id,
                  "user": "debrief", "team": "Test team", "url": "https://test.slack.com/"}
        if grant.enterprise_id:
            answer.update(enterprise_id=grant.enterprise_id,
                          is_enterprise_install=grant.org_install)
        return answer

    def _oauth_access(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") == "refresh_token":
            return self._refresh(body.get("refresh_token") or "")
        install = self.codes.pop(body.get("code") or "", None)  # a code works once
        if install is None:
            raise _SlackError("invalid_code")
        token = f"xoxb-{install.team_id or install.enterprise_id}-{next(self._ts)}"
        if install.rotating:
            token = "xoxe.xoxb-1-" + token.removeprefix("xoxb-") + "-" + "r" * 100
        self.grant(token, install.team_id, enterprise_id=install.enterprise_id,
                   org_install=install.org_install,
                   expires_in=install.expires_in if install.rotating else None)
        answer: dict[str, Any] = {
            "app_id": "A0001", "authed_user": {"id": "U_INSTALLER"}, "scope": body.get(
                "scope", "chat:write,commands"), "token_type": "bot", "access_token": token,
            "bot_user_id": BOT_USER_ID,
            "team": {"id": install.team_id, "name": install.team_name}
            if install.team_id else None,
            "enterprise": {"id": install.enterprise_id, "name": install.enterprise_name}
            if install.enterprise_id else None,
            "is_enterprise_install": install.org_install,
        }
        if install.rotating:
            refresh = f"xoxe-1-refresh-{next(self._ts)}"
            self.refresh_tokens[refresh] = token
            answer.update(refresh_token=refresh, expires_in=install.expires_in)
        return answer

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        old = self.refresh_tokens.get(refresh_token)
        if old is None:
            raise _SlackError("invalid_refresh_token")
        grant = self.grants[old]
        token = f"xoxe.xoxb-1-refreshed-{next(self._ts)}-" + "r" * 100
        self.grant(token, grant.team_id, enterprise_id=grant.enterprise_id,
                   org_install=grant.org_install, expires_in=43200)
        if self.refresh_once:  # the one used is revoked; a new one is handed out
            del self.refresh_tokens[refresh_token]
            refresh_token = f"xoxe-1-refresh-{next(self._ts)}"
        self.refresh_tokens[refresh_token] = token
        return {"token_type": "bot", "access_token": token, "refresh_token": refresh_token,
                "expires_in": 43200, "team": {"id": grant.team_id}}

    def _connections_open(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            raise _SlackError("no_socket_server")
        return {"url": self.socket_url}

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        _check_blocks(body)
        ts = self._next_ts()
        message: dict[str, Any] = {"type": "message", "ts": ts, "text": body.get("text") or "",
                                   "bot_id": BOT_ID, "user": BOT_USER_ID,
                                   "blocks": body.get("blocks") or []}
        if body.get("thread_ts"):
            message["thread_ts"] = body["thread_ts"]
            if _flag(body.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
        metadata = body.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        # A message to a user ID goes to the bot's DM with them, a channel of its own.
        channel = _dm(body.get("channel") or "")
        with self._lock:
            self.messages[(channel, ts)] = {"channel": channel, **message}
        return {"channel": channel, "ts": ts,
                "message": {k: v for k, v in message.items() if k != "metadata"}}

    @staticmethod
    def _open_dm(body: dict[str, Any]) -> dict[str, Any]:
        """conversations.open with one user: the bot's DM with them."""
        users = str(body.get("users") or "")
        if not users.startswith(("U", "W")) or "," in users:
            raise _SlackError("user_not_found")
        return {"channel": {"id": _dm(users)}, "already_open": True}

    def _post_ephemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        _check_blocks(body)
        return {"message_ts": self._next_ts()}

    def _update_message(self, body: dict[str, Any]) -> dict[str, Any]:
        _check_blocks(body)
        with self._lock:
            message = self.messages.get((body.get("channel", ""), body.get("ts", "")))
            if message is not None:
                message.update(text=body.get("text") or "", blocks=body.get("blocks") or [])
        return {"channel": body.get("channel"), "ts": body.get("ts")}

    def _delete_message(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.messages.pop((body.get("channel", ""), body.get("ts", "")), None)
        return {"channel": body.get("channel"), "ts": body.get("ts")}

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: the channel's messages, newest first (thread replies
        only when broadcast), between `oldest` and `latest`, a page at a time."""
        found = [m for m in self._window(body)
                 if "thread_ts" not in m or m["thread_ts"] == m["ts"]
                 or m.get("subtype") == "thread_broadcast"]
        return self._page(list(reversed(found)), body)

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: a thread's parent and replies, oldest first."""
        parent = body.get("ts", "")
        found = [m for m in self._window(body)
                 if m["ts"] == parent or m.get("thread_ts") == parent]
        if not any(m["ts"] == parent for m in self.posts(body.get("channel"))):
            raise _SlackError("thread_not_found")
        return self._page(found, body)

    def _window(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        oldest, latest = float(body.get("oldest") or 0), float(body.get("latest") or "inf")
        inclusive = _flag(body.get("inclusive"))
        for message in self.posts(body.get("channel")):
            ts = float(message["ts"])
            if (oldest < ts or inclusive and oldest == ts) and ts <= latest:
                yield message

    @staticmethod
    def _page(messages: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
        start, limit = int(body.get("cursor") or 0), int(body.get("limit") or 100)
        page = messages[start:start + limit]
        if not _flag(body.get("include_all_metadata")):  # Slack leaves it out unless asked
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        page = [{k: v for k, v in m.items() if k != "channel"} for m in page]
        more = start + limit < len(messages)
        return {"messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _permalink(self, body: dict[str, Any]) -> dict[str, Any]:
        """Slack's link to a message; a reply's carries its thread, as Slack's does."""
        channel, ts = str(body.get("channel")), str(body.get("message_ts"))
        link = f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        with self._lock:
            thread = (self.messages.get((channel, ts)) or {}).get("thread_ts")
        if thread and thread != ts:
            link += f"?thread_ts={thread}&cid={channel}"
        return {"channel": channel, "permalink": link}

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
                          created=int(time.time()), user=BOT_USER_ID,
                          initial_comment=body.get("initial_comment"),
                          thread_ts=body.get("thread_ts"), shared=bool(body.get("channel_id")))
            completed.append({"id": record["id"], "title": record["title"]})
        return {"files": completed}

    def uploaded(self) -> list[dict[str, Any]]:
        """Files completed (shared) through files_upload_v2, with their bytes as `content`,
        and not deleted since."""
        with self._lock:
            return [dict(f) for f in self._shared_files()]

    def _delete_file(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = self.files.get(body.get("file") or "")
            if record is None or record.get("deleted"):
                raise _SlackError("file_not_found" if record is None else "file_deleted")
            record["deleted"] = True
        return {}

    def _list_files(self, body: dict[str, Any]) -> dict[str, Any]:
        """files.list: the files shared (by `user`, in `channel`, since `ts_from`),
        newest first, a page of `count` at a time."""
        since = int(body.get("ts_from") or 0)
        with self._lock:
            found = [f for f in self._shared_files()
                     if (not body.get("channel") or f.get("channel_id") == body["channel"])
                     and (not body.get("user") or f.get("user") == body["user"])
                     and f.get("created", 0) >= since]
        found.reverse()
        count, page = int(body.get("count") or 100), int(body.get("page") or 1)
        shown = [{"id": f["id"], "name": f["filename"], "title": f["title"],
                  "user": f["user"], "created": f["created"],
                  "channels": [f["channel_id"]] if f.get("channel_id") else []}
                 for f in found[(page - 1) * count:page * count]]
        return {"files": shown, "paging": {"count": count, "total": len(found), "page": page,
                                           "pages": max(1, -(-len(found) // count))}}

    def _shared_files(self) -> list[dict[str, Any]]:
        """(Under the lock.) The files completed and not deleted."""
        return [f for f in self.files.values()
                if f.get("title") is not None and not f.get("deleted")]

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

    def _user_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = body.get("user", "")
        user = self.users.get(user_id)
        if user is None:
            if user_id in self.gone or not user_id.startswith(("U", "W")):
                raise _SlackError("user_not_found")
            user = {"id": user_id, "name": user_id.lower(), "deleted": False}
        return {"user": user}

    def _user_conversations(self, body: dict[str, Any]) -> dict[str, Any]:
        # Two pages, as Slack paginates: the bot must follow next_cursor.
        user_id = body.get("user", "")
        channels = self.memberships.get(user_id, list(self.everyone_in))
        if self.page_size:
            start = int(body.get("cursor") or 0)
            end = start + self.page_size
            return {"channels": [{"id": c, "is_channel": True, "is_member": True}
                                 for c in channels[start:end]],
                    "response_metadata": {"next_cursor": str(end) if end < len(channels)
                                          else ""}}
        half = len(channels) // 2
        page, rest = (channels[half:], "") if body.get("cursor") else (channels[:half], "next")
        if not half:
            page, rest = channels, ""
        return {"channels": [{"id": c, "is_channel": True, "is_member": True} for c in page],
                "response_metadata": {"next_cursor": rest}}

    def _receive_response_url(self, request: BaseHTTPRequestHandler) -> None:
        """What the bot (or Bolt) posts to a command's response_url: shown to the person."""
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0)).decode()
        with self._changed:
            self.calls.append(Call("response_url", request.path, json.loads(raw or "{}"),
                                   dict(request.headers.items()), ok=True))
            self._changed.notify_all()
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", "2")
        request.end_headers()
        request.wfile.write(b"ok")

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.path.startswith("/upload/"):
            self._receive_upload(request)
            return
        if request.path.startswith("/hooks/"):
            self._receive_response_url(request)
            return
        path, _, query = request.path.partition("?")
        method = path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode() if length else query
        if "json" in (request.headers.get("Content-Type") or "") and length:
            body = json.loads(raw or "{}")
        else:
            body = dict(parse_qsl(raw))
        for key in ("blocks", "view", "attachments"):
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        call = Call(method, request.path, body, dict(request.headers.items()))
        if call.token and method == "auth.test":
            body.setdefault("token", call.token)
        with self._changed:
            self.calls.append(call)
            failure = self._take_failure(method) or self._token_failure(call)
            loss: str | tuple[str, str] = (method, str(body.get("channel") or ""))
            if not self._losses.get(loss):
                loss = method
            lost = self._losses.get(loss, 0) > 0
            if lost:
                self._losses[loss] -= 1
            gate = self._gates.get(method)
            observers = list(self._observers)
            self._changed.notify_all()
        for look in observers:
            look(call)
        if gate is not None:
            gate.wait(timeout=30)
        delay = self.latency + self._delays.get(method, 0.0)
        if delay:
            time.sleep(delay)
        status, headers, payload = self._answer(method, body, failure)
        call.ok = status == 200 and payload.get("ok") is True
        call.response = payload
        if lost:  # done, but the reply never reaches the caller
            request.close_connection = True
            return
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _token_failure(self, call: Call) -> Failure | None:
        """A revoked or expired token fails as Slack's do."""
        grant = self.grants.get(call.token or "")
        if grant is None:
            return None
        if grant.revoked:
            return Failure(error="token_revoked")
        if grant.expires_at is not None and grant.expires_at <= time.time():
            return Failure(error="token_expired")
        return None

    def _take_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return self._chaotic(method)
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _chaotic(self, method: str) -> Failure | None:
        server_errors, rate_limits = self._chaos
        if method == "auth.test" or not (server_errors or rate_limits):
            return None
        draw = self._random.random()
        if draw < server_errors:
            return Failure(status=503)
        if draw < server_errors + rate_limits:
            return Failure(status=429, retry_after=1)
        return None

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


def _dm(channel: str) -> str:
    """Where a message to `channel` goes: a user id means the bot's DM with them."""
    return "D" + channel[1:] if channel.startswith(("U", "W")) else channel


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _width(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _texts(node: Any) -> Iterator[str]:
    """Every text string in a Block Kit structure."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def _check_blocks(body: dict[str, Any]) -> None:
    """Refuse what Slack refuses: too many blocks, a section or header over its limit,
    or more text in all than a message takes."""
    blocks = body.get("blocks") or []
    if not blocks:
        return
    if len(blocks) > MESSAGE_BLOCKS:
        raise _SlackError("invalid_blocks")
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        limit = HEADER_TEXT if block.get("type") == "header" else SECTION_TEXT
        if _width(text) > limit or not (text or block.get("type") != "section"
                                        or block.get("fields")):
            raise _SlackError("invalid_blocks")
    if sum(_width(text) for text in _texts(blocks)) > MESSAGE_TEXT:
        raise _SlackError("msg_blocks_too_long")


def main() -> None:
    """`python -m tests.kit.fake_slack`: serve alone (for benchmarks); prints the URL."""
    fake = FakeSlack().start()
    print(fake.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
