"""The privacy walk: every read path, tried as other people, must show no private text and
no anonymous author.

A *probe* is one read path: it acts as `viewer` (commands, buttons, modals…) and returns
the texts that person was shown. The walk also collects every Slack call made while a probe
ran, and everything the bot posted where people other than the author can see it.

Adding a read path (App Home, search, export, digest, kudos…)? Register a probe here:

    @probe("/debrief search")
    def search(look: Look) -> list[str]:
        return [look.command("search runbook").text]

and `tests/test_privacy.py` walks it, as a member and as a workspace admin, on both DBs;
and as people Slack says may read less: someone removed from a private channel, and a
guest (`Walk.seen_by`). Slack's answers come from the fake: `fake_slack.memberships`
(users.conversations) and `fake_slack.users` (users.info: is_admin, is_restricted…).
`tests/test_privacy_workspaces.py` walks it from other workspaces of the same database
(same user and channel ids), where nothing of the first may be seen or changed at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bot.db.models import Card, Entry, Reflection, Turn
from tests.kit.fake_slack import TEAM_ID, Call


@dataclass
class Look:
    """One probe run: who is looking, and the means to look."""

    bot: Any
    fake_slack: Any
    db: Any
    viewer: str
    channel: str = "C_TEAM"
    team: str = TEAM_ID  # the workspace the viewer is in

    def command(self, text: str, command: str = "/debrief") -> Any:
        return self.bot.slack.command(text, user=self.viewer, channel=self.channel,
                                      command=command, team=self.team)

    def click(self, action_id: str, value: str) -> Any:
        return self.bot.slack.block_action({"action_id": action_id, "value": value},
                                           user=self.viewer, channel=self.channel,
                                           team=self.team)

    def event(self, event: dict[str, Any]) -> Any:
        return self.bot.slack.event(event, team=self.team)

    def opened(self, before: int, count: int = 1) -> list[str]:
        """The modals opened for this person since `before` views.open calls."""
        calls = self.fake_slack.wait_for("views.open", before + count)[before:]
        return [json.dumps(call.body.get("view")) for call in calls]

    def views_open_count(self) -> int:
        return len(self.fake_slack.calls_to("views.open"))

    def ids(self, model: type[Entry] | type[Reflection] | type[Card] | type[Turn]) -> list[int]:
        with self.db.session() as session:
            return list(session.scalars(select(model.id)))


def body_of(response: Any) -> str:
    return response.body.decode() if response.body else ""


Probe = Callable[[Look], list[str]]
PROBES: dict[str, Probe] = {}


def probe(name: str) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        PROBES[name] = fn
        return fn

    return register


@dataclass
class Sighting:
    viewer: str
    where: str
    text: str


@dataclass
class Walk:
    sightings: list[Sighting] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)  # every Slack call made during the walk

    def find(self, needle: str) -> list[Sighting]:
        return [s for s in self.sightings if needle.lower() in s.text.lower()]

    def seen_by(self, viewer: str, needle: str, *, besides: tuple[str, ...] = ()) -> list[str]:
        """Where `viewer` was shown `needle` through a read path of their own (not the
        channel posts everyone there sees), leaving out the probes named in `besides`."""
        return [s.where for s in self.find(needle)
                if s.viewer == viewer and not s.where.startswith(besides)]


def seen_by_others(call: Call, author: str) -> bool:
    """Whether people other than `author` can read what this Slack call shows."""
    body = call.body
    if call.method in ("chat.postMessage", "chat.update"):
        return body.get("channel") != author  # a DM to the author is theirs alone
    if call.method == "chat.postEphemeral":
        return body.get("user") != author
    if call.method == "views.publish":
        return body.get("user_id") != author
    return False  # modals: attributed to whoever's request opened them, by the probes


def walk(bot: Any, fake_slack: Any, db: Any, *, author: str, viewers: list[str],
         team: str = TEAM_ID) -> Walk:
    """Run every probe as every viewer (of workspace `team`); collect all they could see,
    and every message posted where others can read it.

    From another workspace than the author's, everything the bot did during the walk
    counts as seen (the author is not there): `calls` holds those Slack calls."""
    result = Walk()
    bot.settle()  # the author's own sends are done before anyone looks
    first = len(fake_slack.calls)
    elsewhere = team != TEAM_ID
    for viewer in viewers:
        for name, run in PROBES.items():
            start = len(fake_slack.calls)
            look = Look(bot, fake_slack, db, viewer, team=team)
            result.sightings += [Sighting(viewer, name, text) for text in run(look)]
            # Anything the probe made the bot do, unless it went to the author alone.
            for call in fake_slack.calls[start:]:
                if elsewhere or call.method == "views.open" or seen_by_others(call, author):
                    result.sightings.append(
                        Sighting(viewer, f"{name} → {call.method}", json.dumps(call.body)))
    bot.settle()  # whatever was queued has been sent
    result.calls = list(fake_slack.calls[first:])
    for call in fake_slack.calls[first if elsewhere else 0:]:
        if elsewhere or seen_by_others(call, author):
            result.sightings.append(Sighting("channel", call.method, json.dumps(call.body)))
    return result


# --- the read paths that exist ---

@probe("/debrief help")
def debrief_help(look: Look) -> list[str]:
    return [body_of(look.command("help")), body_of(look.command("nonsense"))]


@probe("/hope history")
def hope_history(look: Look) -> list[str]:
    return [body_of(look.command("history", "/hope")),
            body_of(look.command("history 2", "/hope"))]


@probe("/hope help")
def hope_help(look: Look) -> list[str]:
    return [body_of(look.command("help", "/hope"))]


@probe("Read and Share on every reflection")
def reflection_buttons(look: Look) -> list[str]:
    ids = look.ids(Reflection)
    before = look.views_open_count()
    answers = []
    for reflection_id in ids:
        answers.append(body_of(look.click("hope_read", str(reflection_id))))
        answers.append(body_of(look.click("hope_share", str(reflection_id))))
    return answers + look.opened(before, 2 * len(ids))


@probe("/debrief delete on every entry")
def delete_entries(look: Look) -> list[str]:
    return [body_of(look.command(f"delete {entry_id}")) for entry_id in look.ids(Entry)]


@probe("/debrief forget-me (the viewer's own)")
def forget_me(look: Look) -> list[str]:
    before = look.views_open_count()
    answer = look.command("forget-me")
    shown = [body_of(answer)]
    if not answer.text:  # the viewer has something: the confirmation modal opened
        shown += look.opened(before)
    return shown


@probe("/hope prompts")
def hope_prompts(look: Look) -> list[str]:
    before_update = len(look.fake_slack.calls_to("views.update"))
    answer = look.command("prompts", "/hope")
    update = look.fake_slack.wait_for("views.update", before_update + 1)[before_update]
    return [body_of(answer), json.dumps(update.body)]


@probe("/hope and /debrief modals (the viewer's own)")
def own_modals(look: Look) -> list[str]:
    before = look.views_open_count()
    answers = [body_of(look.command("", "/hope")), body_of(look.command(""))]
    return answers + look.opened(before, 2)


@probe("a forged share form naming every reflection")
def forged_share(look: Look) -> list[str]:
    answers = []
    for reflection_id in look.ids(Reflection):
        form = {"type": "modal", "callback_id": "hope_share", "blocks": [],
                "private_metadata": json.dumps({"reflection_id": reflection_id,
                                                "channel_id": look.channel})}
        values = {"hope_share_text": {"hope_share_text_input": {
                      "type": "plain_text_input", "value": "forged"}},
                  "hope_share_with": {"hope_share_with_choice": {
                      "type": "radio_buttons", "selected_option": {"value": "team"}}}}
        answers.append(body_of(look.bot.slack.view_submission(form, values, user=look.viewer,
                                                              team=look.team)))
    return answers


# --- the look-back paths: search, kudos, the App Home, export, the digest ---

@probe("/debrief search")
def search(look: Look) -> list[str]:
    words = ["retro", "outage", "ask", "mistakes", "demo", "flaky", "backups", "lesson",
             "named", "manager", "cried"]
    return [body_of(look.command(f"search {word}")) for word in words]


@probe("/debrief kudos, after applauding every message")
def kudos(look: Look) -> list[str]:
    from tests.kit.slack_requests import reaction

    for call in look.fake_slack.succeeded("chat.postMessage"):
        if "ts" in call.response and str(call.body.get("channel", "")).startswith("C"):
            look.event(reaction("reaction_added", user=look.viewer,
                                channel=call.body["channel"], ts=call.response["ts"]))
    return [body_of(look.command(f"kudos {period}")) for period in ("week", "month", "all")]


@probe("the App Home")
def app_home(look: Look) -> list[str]:
    look.fake_slack.memberships.setdefault(look.viewer, [look.channel])
    before = len(look.fake_slack.calls_to("views.publish"))
    look.event({"type": "app_home_opened", "user": look.viewer, "tab": "home",
                "channel": f"D_{look.viewer}", "event_ts": "1700000000.000100"})
    publish = look.fake_slack.wait_for("views.publish", before + 1)[before]
    return [json.dumps(publish.body)]


@probe("/debrief export csv and md")
def export(look: Look) -> list[str]:
    before = len(look.fake_slack.uploaded())
    answers = [body_of(look.command("export csv")), body_of(look.command("export md"))]
    coming = sum("Exporting" in answer for answer in answers)  # none when nothing may go
    look.fake_slack.wait_until(lambda: len(look.fake_slack.uploaded()) >= before + coming,
                               what="the exports")
    files = look.fake_slack.uploaded()[before:]
    return answers + [str(f.get("content", b""), "utf-8", "replace") for f in files]


@probe("the organisation digest")
def digest(look: Look) -> list[str]:
    from datetime import timedelta

    from sqlalchemy import update

    from bot.clock import post_due_digests
    from bot.db.models import Digest, utcnow

    answer = look.command("digest here weekly mon 09:00")
    with look.db.session() as session:  # make it due now, and let the clock post it
        session.execute(update(Digest).where(Digest.team_id == look.team)
                        .values(next_run_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    before = len(look.fake_slack.calls_to("chat.postMessage"))
    post_due_digests(look.bot.runtime)  # the week's digest, once: a second viewer sees none
    look.bot.settle()  # whatever it queued has been sent
    posted = look.fake_slack.calls_to("chat.postMessage")[before:]
    return [body_of(answer)] + [json.dumps(call.body) for call in posted]


# --- what changes things, aimed at every row there is (of any workspace) ---

@probe("/debrief close on every card")
def close_cards(look: Look) -> list[str]:
    from bot.db.models import Card

    return [body_of(look.command(f"close {card_id}")) for card_id in look.ids(Card)]


@probe("a card's Add buttons on every card")
def card_buttons(look: Look) -> list[str]:
    from bot.db.models import Card

    ids = look.ids(Card)
    before = look.views_open_count()
    answers = [body_of(look.click("card_add_lesson", str(card_id))) for card_id in ids]
    return answers + look.opened(before, len(ids))


@probe("the rotation reminder's buttons on every turn")
def turn_buttons(look: Look) -> list[str]:
    from bot.db.models import Turn

    return [body_of(look.click(action, str(turn_id))) for turn_id in look.ids(Turn)
            for action in ("rotation_share", "rotation_pass", "rotation_skip")]


@probe("/debrief rotation next, the rotation and digest settings")
def rotation_and_digest(look: Look) -> list[str]:
    return [body_of(look.command("rotation next")), body_of(look.command("digest"))]


@probe("related lessons after logging a lesson")
def related(look: Look) -> list[str]:
    before = len(look.fake_slack.calls)
    answer = look.command("lesson retro outage ask mistakes demo flaky backups named cried")
    look.bot.settle()  # the "have we learned this before?" message
    return [body_of(answer)] + [json.dumps(c.body) for c in look.fake_slack.calls[before:]]


# --- who a card asks, and the look back: who is named, and to whom ---

@probe("/debrief ask (the late answer)")
def ask(look: Look) -> list[str]:
    shown = []
    for words in ("flaky tests", "skipping backups", "retro manager outage", "demo cried",
                  "bob named", "rollbacks card lesson"):
        before = len(look.fake_slack.calls_to("response_url"))
        shown.append(body_of(look.command(f"ask {words}")))
        late = look.fake_slack.wait_for("response_url", before + 1)[before]
        shown.append(json.dumps(late.body))
    return shown


@probe("every card's Who's in, collaborators, close and Ask them first, as someone else")
def card_people(look: Look) -> list[str]:
    shown = [body_of(look.command("nudges"))]
    for card_id in look.ids(Card):
        shown.append(body_of(look.command(f"collaborators {card_id}")))
        shown.append(body_of(look.command(f"close {card_id}")))  # asks first: a count
        for action in ("card_who", "card_ask_first", "card_join", "card_who"):
            shown.append(body_of(look.click(action, str(card_id))))
        shown.append(body_of(look.click("card_leave", str(card_id))))
    return shown
