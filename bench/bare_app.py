"""The baselines: bare Bolt apps served the same way as ours.

- `create_app()`: /debrief and reactions only ack.
- `create_storing_app()`: /debrief stores the command's text with one raw INSERT and a
  COMMIT (a DBAPI connection per thread, no ORM) before it acks: the floor for a durable
  ack, which PRODUCT.md requires (what a person wrote is saved before the answer). A
  reaction stores its event id the same way (INSERT … ON CONFLICT DO NOTHING, COMMIT):
  the least a durable, once-only ack of an event writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

EVENT = ("INSERT INTO processed_events (team_id, event_id, received_at) VALUES ({0}, {0}, {0}) "
         "ON CONFLICT DO NOTHING")
INSERT = ("INSERT INTO entries (team_id, channel_id, author_id, kind, text, visibility, "
          "anonymous, source, created_at, tags) VALUES ({0}, {0}, {0}, {0}, {0}, {0}, {0}, "
          "{0}, {0}, {0})")


def create_app(store: bool = False) -> Flask:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    bolt = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"],
               process_before_response=True, token_verification_enabled=False)
    write = _raw_insert(os.environ["DATABASE_URL"], INSERT) if store else None
    seen = _raw_insert(os.environ["DATABASE_URL"], EVENT) if store else None

    @bolt.command("/debrief")
    def debrief(ack, command):
        if write is not None:
            kind, _, text = command["text"].partition(" ")
            write((command["team_id"], command["channel_id"], command["user_id"], kind, text,
                   "team", False, "command", datetime.now(UTC).replace(tzinfo=None), ""))
        ack()

    @bolt.event("reaction_added")
    @bolt.event("reaction_removed")
    def reaction(ack, body):
        if seen is not None:
            seen((body["team_id"], body["event_id"], datetime.now(UTC).replace(tzinfo=None)))
        ack()

    handler = SlackRequestHandler(bolt)
    web = Flask("bare")

    @web.post("/slack/events")
    def events():
        return handler.handle(request)

    return web


def create_storing_app() -> Flask:
    return create_app(store=True)


def _raw_insert(url: str, insert: str):
    """One INSERT and a COMMIT on a per-thread DBAPI connection."""
    local = threading.local()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        statement = insert.format("?")

        def connect():
            # As the bot's engine: WAL, synchronous=NORMAL, waiting for the writer.
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            return connection

        def write(values):
            connection = getattr(local, "connection", None) or connect()
            local.connection = connection
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(statement, values)
            connection.execute("COMMIT")

        return write

    import psycopg

    statement = insert.format("%s")
    dsn = url.replace("postgresql+psycopg://", "postgresql://")

    def write_pg(values):
        connection = getattr(local, "connection", None) or psycopg.connect(dsn)
        local.connection = connection
        connection.execute(statement, values)
        connection.commit()

    return write_pg
