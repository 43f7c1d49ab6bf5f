"""Really signed requests, in Slack's real payload shapes, sent over HTTP to the app."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.kit.fake_slack import BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "test-signing-secret"
APP_ID = "A0001"
_ids = itertools.count(1)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """The text a person sees in an ephemeral slash-command answer."""
        if not self.body:
            return ""
        content_type = next((value for name, value in self.headers.items()
                             if name.lower() == "content-type"), "")
        if "json" not in content_type:
            return self.body.decode()  # Slack shows a plain-text answer as it is
        return self.json().get("text", "")


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Plays Slack's side of the Events/Interactivity/Commands HTTP calls.

    `hooks_url`: where response_urls point (the fake Slack records what is posted there).
    `enterprise` / `org_install` on a request: it comes from a workspace of an Enterprise
    Grid org, through an org-wide install or not."""

    def __init__(self, base_url: str, secret: str = SIGNING_SECRET,
                 hooks_url: str = "https://hooks.slack.com/"):
        self.url = base_url.rstrip("/") + "/slack/events"
        self.secret = secret
        self.hooks_url = hooks_url

    # --- the low level ---

    def post(self, body: str, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None, extra_headers: dict[str, str] | None = None,
             sign_it: bool = True) -> Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": content_type}
        if sign_it:
            headers["X-Slack-Request-Timestamp"] = str(timestamp)
            headers["X-Slack-Signature"] = signature or sign(body, timestamp, self.secret)
        headers.update(extra_headers or {})
        request = urllib.request.Request(self.url, data=body.encode(), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Response(answer.status, answer.read(), dict(answer.headers.items()))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read(), dict(error.headers.items()))

    def form(self, fields: dict[str, Any], **kwargs: Any) -> Response:
        return self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    # --- Slack's shapes ---

    def command(self, text: str, *, user: str = "U_ALICE", channel: str = "C_TEAM",
                team: str = TEAM_ID, command: str = "/debrief", enterprise: str | None = None,
                org_install: bool = False, **kwargs: Any) -> Response:
        return self.form(command_fields(text, user=user, channel=channel, team=team,
                                        command=command, enterprise=enterprise,
                                        org_install=org_install, hooks_url=self.hooks_url),
                         **kwargs)

    def view_submission(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *,
                        user: str = "U_ALICE", team: str = TEAM_ID,
                        enterprise: str | None = None,
                        org_install: bool = False) -> Response:
        """Submit `view` (as the bot opened it) with `values` as state.values."""
        return self.interaction(view_submission(view, values, user=user, team=team,
                                                enterprise=enterprise,
                                                org_install=org_install))

    def block_action(self, action: dict[str, Any], *, user: str = "U_ALICE",
                     channel: str = "C_TEAM", team: str = TEAM_ID,
                     message: dict[str, Any] | None = None,
                     view: dict[str, Any] | None = None, enterprise: str | None = None,
                     org_install: bool = False) -> Response:
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": team, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(),
                     "team_id": team},
            "api_app_id": APP_ID, "token": "legacy-token",
            "trigger_id": f"{next(_ids)}.trigger", "is_enterprise_install": org_install,
            "enterprise": {"id": enterprise, "name": "Grid org"} if enterprise else None,
            "actions": [{"type": "button", "action_ts": f"{time.time():.6f}", **action}],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
            payload["view"] = view
        else:
            msg = message or {"ts": "1700000000.000100", "text": ""}
            payload["container"] = {"type": "message", "message_ts": msg["ts"],
                                    "channel_id": channel, "is_ephemeral": False}
            payload["channel"] = {"id": channel, "name": "team"}
            payload["message"] = msg
            payload["response_url"] = f"{self.hooks_url}actions/{team}/1/x"
        return self.interaction(payload)

    def message_shortcut(self, callback_id: str, message: dict[str, Any], *,
                         user: str = "U_ALICE", channel: str = "C_TEAM",
                         channel_name: str = "team", team: str = TEAM_ID) -> Response:
        """A message shortcut (`message_action`) on `message` ({user, ts, text, ...})."""
        return self.interaction({
            "type": "message_action", "callback_id": callback_id,
            "trigger_id": f"{next(_ids)}.trigger", "action_ts": f"{time.time():.6f}",
            "team": {"id": team, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(),
                     "team_id": team},
            "channel": {"id": channel, "name": channel_name},
            "message": {"type": "message", **message},
            "message_ts": message.get("ts"), "api_app_id": APP_ID, "token": "legacy-token",
            "response_url": f"https://hooks.slack.com/app/{team}/1/x",
            "is_enterprise_install": False, "enterprise": None,
        })

    def global_shortcut(self, callback_id: str, *, user: str = "U_ALICE",
                        team: str = TEAM_ID) -> Response:
        """A global shortcut (`shortcut`), from the search bar or the composer's menu."""
        return self.interaction({
            "type": "shortcut", "callback_id": callback_id,
            "trigger_id": f"{next(_ids)}.trigger", "action_ts": f"{time.time():.6f}",
            "team": {"id": team, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": APP_ID, "token": "legacy-token",
            "is_enterprise_install": False, "enterprise": None,
        })

    def overflow(self, action_id: str, value: str, *, message: dict[str, Any],
                 user: str = "U_ALICE", channel: str = "C_TEAM",
                 team: str = TEAM_ID) -> Response:
        """Pick `value` in an overflow menu (⋯) of `message`, as Slack sends it."""
        option = {"text": {"type": "plain_text", "text": value}, "value": value}
        return self.block_action({"type": "overflow", "action_id": action_id,
                                  "block_id": "b1", "selected_option": option},
                                 user=user, channel=channel, team=team, message=message)

    def block_suggestion(self, view: dict[str, Any], block_id: str, typed: str, *,
                         user: str = "U_ALICE", team: str = TEAM_ID) -> Response:
        """What Slack asks an external select's Options Load URL as `typed` is typed in
        the field `block_id` of the modal `view`."""
        block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
        return self.interaction({
            "type": "block_suggestion", "user": {"id": user, "username": user.lower(),
                                                 "name": user.lower(), "team_id": team},
            "container": {"type": "view", "view_id": view.get("id", "V1")},
            "api_app_id": APP_ID, "token": "legacy-token",
            "action_id": block["element"]["action_id"], "block_id": block_id,
            "value": typed, "team": {"id": team, "domain": "test"},
            "view": {**view, "id": view.get("id", "V1"), "team_id": team},
            "is_enterprise_install": False, "enterprise": None,
        })

    def interaction(self, payload: dict[str, Any], **kwargs: Any) -> Response:
        return self.form({"payload": json.dumps(payload)}, **kwargs)

    def event(self, event: dict[str, Any], *, event_id: str | None = None,
              team: str | None = TEAM_ID, retry_num: int | None = None,
              enterprise: str | None = None, org_install: bool = False,
              event_time: int | None = None) -> Response:
        body = json.dumps(event_callback(event, event_id=event_id, team=team,
                                         enterprise=enterprise, org_install=org_install,
                                         event_time=event_time))
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num),
                       "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(body, "application/json", extra_headers=headers)


def command_fields(text: str, *, user: str = "U_ALICE", channel: str = "C_TEAM",
                   team: str = TEAM_ID, command: str = "/debrief",
                   enterprise: str | None = None, org_install: bool = False,
                   hooks_url: str = "https://hooks.slack.com/") -> dict[str, Any]:
    """A slash command's fields, as Slack sends them (a form over HTTP, a dict in Socket
    Mode)."""
    n = next(_ids)
    fields = {
        "token": "legacy-token", "team_id": team, "team_domain": "test",
        "channel_id": channel, "channel_name": "team", "user_id": user,
        "user_name": user.lower(), "command": command, "text": text,
        "api_app_id": APP_ID, "is_enterprise_install": str(org_install).lower(),
        "response_url": f"{hooks_url}commands/{team}/{n}/x",
        "trigger_id": f"{n}.{n}.trigger",
    }
    if enterprise:
        fields.update(enterprise_id=enterprise, enterprise_name="Grid org")
    return fields


def view_submission(view: dict[str, Any], values: dict[str, dict[str, Any]], *,
                    user: str = "U_ALICE", team: str = TEAM_ID, enterprise: str | None = None,
                    org_install: bool = False) -> dict[str, Any]:
    """The view_submission payload for `view` (as the bot opened it) filled with `values`."""
    submitted = {**view, "id": "V" + str(next(_ids)), "team_id": team,
                 "state": {"values": values}, "hash": "1.abc",
                 "app_id": APP_ID, "bot_id": "BBOT0001"}
    return {
        "type": "view_submission", "team": {"id": team, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "api_app_id": APP_ID, "token": "legacy-token",
        "trigger_id": f"{next(_ids)}.trigger", "view": submitted,
        "response_urls": [], "is_enterprise_install": org_install,
        "enterprise": {"id": enterprise, "name": "Grid org"} if enterprise else None,
    }


def event_callback(event: dict[str, Any], *, event_id: str | None = None,
                   team: str | None = TEAM_ID, enterprise: str | None = None,
                   org_install: bool = False, event_time: int | None = None) -> dict[str, Any]:
    """The Events API envelope Slack sends (over HTTP, or inside a Socket Mode envelope)."""
    event_id = event_id or f"Ev{next(_ids):08d}"
    body: dict[str, Any] = {
        "token": "legacy-token", "team_id": team or enterprise, "api_app_id": APP_ID,
        "event": event, "type": "event_callback", "event_id": event_id,
        "event_time": event_time or int(time.time()),
        "authorizations": [{"enterprise_id": enterprise,
                            "team_id": None if org_install else team,
                            "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": org_install}],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }
    if enterprise:
        body.update(enterprise_id=enterprise, is_enterprise_install=org_install)
    if org_install and team:
        body["context_team_id"] = team
    return body


def reaction(kind: str, *, user: str, channel: str, ts: str, emoji: str = "tada",
             item_user: str | None = BOT_USER_ID) -> dict[str, Any]:
    """A `reaction_added` / `reaction_removed` event on a message, as Slack sends it.
    For a message the bot posted, Slack names the bot as `item_user`."""
    event: dict[str, Any] = {
        "type": kind, "user": user, "reaction": emoji,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{time.time():.6f}",
    }
    if item_user is not None:
        event["item_user"] = item_user
    return event


def fill(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """State values for `view` as a person would fill it: {block_id: value}.

    A value is a string for text inputs (None: left as the view filled it in), an option
    value for selects and radio buttons (an external select's: a value, or the option as
    its Options Load URL gave it), a channel id for a conversations select, a list of
    option values for checkboxes (empty list: nothing ticked), a list of user ids for user
    selects, "HH:MM" for time pickers.
    Unanswered pickers keep their initial value.
    """
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        block_id, action_id, kind = block["block_id"], element["action_id"], element["type"]
        answer = answers.get(block_id)
        state: dict[str, Any] = {"type": kind}
        options = {o["value"]: o for o in element.get("options", [])}
        if kind == "plain_text_input":
            # Slack reports an untouched field's initial value as its value.
            state["value"] = answer if answer is not None else element.get("initial_value")
        elif kind in ("static_select", "radio_buttons"):
            chosen = answer if answer is not None else \
                (element.get("initial_option") or {}).get("value")
            state["selected_option"] = options.get(chosen) if chosen else None
        elif kind == "checkboxes":
            state["selected_options"] = [options[v] for v in (answer or [])]
        elif kind == "multi_users_select":
            state["selected_users"] = list(answer if answer is not None
                                           else element.get("initial_users") or [])
        elif kind == "external_select":
            # An option the Options Load URL handed out: {"value", "text"}, or a value.
            if isinstance(answer, str):
                answer = {"value": answer, "text": {"type": "plain_text", "text": answer}}
            state["selected_option"] = answer if answer is not None \
                else element.get("initial_option")
        elif kind == "conversations_select":
            state["selected_conversation"] = answer if answer is not None \
                else element.get("initial_conversation")
        elif kind == "timepicker":
            state["selected_time"] = answer if answer is not None \
                else element.get("initial_time")
        else:
            state["value"] = answer
        values[block_id] = {action_id: state}
    return values
