"""Slack's side of Socket Mode on 127.0.0.1, for the tests: a websocket server (the
`websockets` package) that greets each connection with `hello`, sends envelopes, and keeps
every acknowledgement by its `envelope_id`. The fake Slack Web API's
`apps.connections.open` hands out its address (`FakeSlack.socket_url`)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

_envelopes = itertools.count(1)


class SocketSlack:
    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.closed: list[ServerConnection] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self.server: Server = serve(self._serve, "127.0.0.1", 0, compression=None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> SocketSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    @property
    def url(self) -> str:
        port = self.server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=test"

    # --- Slack's side of one connection ---

    def _serve(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A0001"},
                                    "debug_info": {"host": "test"}}))
        with self._changed:
            self.connections.append(connection)
            self._changed.notify_all()
        try:
            for message in connection:
                answer = json.loads(message)
                with self._changed:
                    if "envelope_id" in answer:
                        self.acks[answer["envelope_id"]] = answer
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self.closed.append(connection)
                self._changed.notify_all()

    # --- what a test does ---

    def wait(self, predicate: Any, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                assert left > 0, f"timed out waiting for {what}"
                self._changed.wait(left)

    def wait_connected(self, count: int = 1) -> ServerConnection:
        """The `count`-th connection, once it is open."""
        self.wait(lambda: len(self.connections) >= count, f"connection {count}")
        return self.connections[count - 1]

    def send(self, kind: str, payload: dict[str, Any], *, envelope_id: str | None = None,
             retry_attempt: int = 0) -> str:
        """Send an envelope on the newest connection; its envelope_id."""
        envelope_id = envelope_id or f"env-{next(_envelopes)}"
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind,
                                    "payload": payload,
                                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt,
                            retry_reason="timeout" if retry_attempt else "")
        self.connections[-1].send(json.dumps(envelope))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 20.0) -> dict[str, Any]:
        """The app's acknowledgement of an envelope (its payload, if any)."""
        self.wait(lambda: envelope_id in self.acks, f"the ack of {envelope_id}", timeout)
        with self._changed:
            return self.acks.pop(envelope_id).get("payload") or {}

    def drop(self) -> None:
        """Slack closes the connection (it does, every few hours, and on deploys)."""
        self.connections[-1].close(code=1001, reason="going away")
