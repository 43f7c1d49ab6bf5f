"""The baseline: a bare Bolt app whose /debrief only acks, served the same way as ours."""

from __future__ import annotations

import os

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient


def create_app() -> Flask:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    bolt = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"],
               process_before_response=True, token_verification_enabled=False)

    @bolt.command("/debrief")
    def debrief(ack):  # type: ignore[no-untyped-def]
        ack()

    @bolt.event("reaction_added")
    @bolt.event("reaction_removed")
    def reaction(ack):  # type: ignore[no-untyped-def]
        ack()

    handler = SlackRequestHandler(bolt)
    web = Flask("bare")

    @web.post("/slack/events")
    def events():  # type: ignore[no-untyped-def]
        return handler.handle(request)

    return web
