"""Who a card asks: its Join · Leave · Who's in buttons, the close prompt's Ask them first
and Close anyway, the nudge DM's mutes, `/debrief collaborators CARD …` and
`/debrief nudges …`. Every answer to a button is a message only the presser sees."""

from __future__ import annotations

import re

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.ids import Action
from bot.listeners import Deps, Listeners
from bot.listeners.commands import Call
from bot.listeners.slack_text import typed_text
from bot.listeners.unit import answer_button, workspace
from bot.services import cards, collaborators, nearmiss, nudges, rotation
from bot.services.errors import UserError
from bot.views import collaborators as views
from bot.views.text import clip, safe

_COLLAB = re.compile(r"(?P<ref>.*?)\s*(?:\b(?P<verb>add|remove)\b(?P<rest>.*))?",
                     re.IGNORECASE | re.DOTALL)
_CARD_SWITCH = re.compile(r"(?P<ref>.+?)\s+(?P<switch>on|off)", re.IGNORECASE)
_PERIOD = re.compile(r"(?:(?P<ref>.+?)\s+)?(?P<period>every\b.*)", re.IGNORECASE)
# `collab 1 ad @a`: a card, a word that is not add or remove, then people.
_COLLAB_NEAR = re.compile(r"(?P<ref>.+?)\s+(?P<verb>\S+)\s+(?P<rest><[@!].*)", re.DOTALL)
# `nudges of`, `nudges 1 of`, `nudges evry 3 days`: its last or its first word mistyped.
_NUDGE_NEAR = re.compile(r"(?:(?P<ref>.+?)\s+)?(?P<word>\S+)")
_NUDGE_EVERY = re.compile(r"(?:(?P<ref>.+?)\s+)?(?P<word>\S+)\s+(?P<period>\d+\s+\S+)")
COLLAB_USAGE = ("`/debrief collaborators CARD` (who is on it), `… CARD add @a @b`, "
                "`… CARD remove @a`")
NUDGE_USAGE = ("`/debrief nudges` · `nudges off` · `nudges on` · `nudges CARD off` · "
               "`nudges every 3 days` (this channel) · `nudges CARD every 2 weeks`")


def _card_id(body: dict) -> int:
    value = str((body.get("actions") or [{}])[0].get("value", ""))
    if not value.isdigit():
        raise UserError("That button is not about a card I know.")
    return int(value)


def _who(body: dict, context: BoltContext) -> tuple[str, str]:
    team = workspace(context)
    return team, body["user"]["id"]


def _channel(body: dict) -> str:
    return (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id", "")


def join(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    team, user = _who(body, context)
    card, added = collaborators.join(context["db"], team, _card_id(body), user)
    days = nudges.periods(context["db"], [card])[card.id]
    answer_button(context["db"], body, team, views.joined(card, added, days))


def leave(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    team, user = _who(body, context)
    card, removed = collaborators.remove(context["db"], team, _card_id(body), [user], by=user)
    answer_button(context["db"], body, team, views.left(card, bool(removed)))


def who(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    team, user = _who(body, context)
    card = collaborators.card_of(context["db"], team, _card_id(body))
    answer_button(context["db"], body, team,
                  views.roster_text(card, collaborators.roster(context["db"], card, user)))


def close_anyway(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
    ack()
    team, user = _who(body, context)
    # Whether the presser is an admin, asked of Slack before the database is touched.
    person = context["deps"].directory.person(client, team, user)
    card = collaborators.close(context["db"], team_id=team, channel_id=_channel(body),
                               user_id=user, ref=str(_card_id(body)), admin=person.admin,
                               anyway=True)
    if not isinstance(card, collaborators.NotYet):  # never, with `anyway`
        answer_button(context["db"], body, team, views.closed(card))


def ask_first(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    team, user = _who(body, context)
    asked = collaborators.ask(context["db"], team_id=team, channel_id=_channel(body),
                              user_id=user, card_id=_card_id(body))
    answer_button(context["db"], body, team, views.asked(asked))


def mute_card(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    team, user = _who(body, context)
    card = nudges.mute_card(context["db"], team, _card_id(body), user)
    answer_button(context["db"], body, team, views.muted_card(card))


def mute_all(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    team, user = _who(body, context)
    nudges.mute_all(context["db"], team, user)
    answer_button(context["db"], body, team, views.MUTED_ALL)


def collaborators_command(call: Call) -> str:
    match = _COLLAB.fullmatch(call.args.strip())
    ref = typed_text(match.group("ref")) if match else ""
    if not ref:
        raise UserError(f"Which card? {COLLAB_USAGE}")
    verb = (match.group("verb") or "").lower() if match else ""
    if not verb:
        _did_you_mean_collab(call.args.strip())
    card = cards.find_card(call.db, call.team_id, call.channel_id, ref)
    if not verb:
        return views.roster_text(card, collaborators.roster(call.db, card, call.user_id))
    people = rotation.mentioned(match.group("rest") if match else "")
    if verb == "add":
        added, already = collaborators.invite(call.db, card, people, by=call.user_id)
        return views.added(card, added, already)
    _, removed = collaborators.remove(call.db, call.team_id, card.id, people, by=call.user_id)
    return views.removed(card, removed)


def nudges_command(call: Call) -> str:
    text = " ".join(typed_text(call.args).split())
    word = text.lower()
    if not word:
        return _status(call)
    if word in ("off", "on"):
        (nudges.mute_all if word == "off" else nudges.unmute_all)(
            call.db, call.team_id, call.user_id)
        return views.MUTED_ALL if word == "off" else views.UNMUTED
    period = _PERIOD.fullmatch(text)
    if period:
        days = nudges.parse_period(period.group("period"))
        if period.group("ref"):
            card = cards.find_card(call.db, call.team_id, call.channel_id, period.group("ref"))
            nudges.set_card_period(call.db, card, days, by=call.user_id)
            return views.card_period(card, days)
        count = nudges.set_channel_period(call.db, call.team_id, call.channel_id, days)
        return views.channel_period(days, count)
    switch = _CARD_SWITCH.fullmatch(text)
    if switch:
        card = cards.find_card(call.db, call.team_id, call.channel_id, switch.group("ref"))
        muted = switch.group("switch").lower() == "off"
        nudges.mute_card(call.db, call.team_id, card.id, call.user_id, muted=muted)
        return views.muted_card(card) if muted else views.unmuted_card(card)
    raise UserError(f"I don't understand `nudges {safe(text[:80])}`.{_did_you_mean_nudges(text)} "
                    f"{NUDGE_USAGE}")


def _did_you_mean_collab(args: str) -> None:
    """`collab 1 ad @a`: a mistyped add or remove before people is no card's name."""
    near = _COLLAB_NEAR.fullmatch(args)
    guess = nearmiss.closest(near.group("verb"), ("add", "remove")) if near else None
    if near is None or guess is None:
        return
    retyped = safe(clip(f"{typed_text(near.group('ref'))} {guess} "
                        f"{typed_text(near.group('rest'))}", 200))
    raise UserError(f"I don't know `{safe(clip(near.group('verb'), 40))}` there. Did you "
                    f"mean `/debrief collaborators {retyped}`? {COLLAB_USAGE}")


def _did_you_mean_nudges(text: str) -> str:
    """" Did you mean `/debrief nudges …`?" for a mistyped off, on or every, else ""."""
    every = _NUDGE_EVERY.fullmatch(text)
    if every and nearmiss.closest(every.group("word"), ("every",)):
        meant = " ".join(filter(None, (every.group("ref"), "every", every.group("period"))))
    else:
        near = _NUDGE_NEAR.fullmatch(text)
        guess = nearmiss.closest(near.group("word"), ("off", "on")) if near else None
        if near is None or guess is None:
            return ""
        meant = " ".join(filter(None, (near.group("ref"), guess)))
    return f" Did you mean `/debrief nudges {safe(clip(meant, 200))}`?"


def _status(call: Call) -> str:
    return views.nudge_status(
        muted_all=nudges.is_muted_everywhere(call.db, call.team_id, call.user_id),
        cards=nudges.mine(call.db, call.team_id, call.user_id),
        channel_days=nudges.channel_period(call.db, call.team_id, call.channel_id))


def register(app: Listeners, deps: Deps) -> None:
    app.action(Action.CARD_JOIN, join)
    app.action(Action.CARD_LEAVE, leave)
    app.action(Action.CARD_WHO, who)
    app.action(Action.CARD_CLOSE_ANYWAY, close_anyway)
    app.action(Action.CARD_ASK_FIRST, ask_first)
    app.action(Action.NUDGE_MUTE_CARD, mute_card)
    app.action(Action.NUDGE_MUTE_ALL, mute_all)
    app.subcommand("collaborators", "collab", usage="collaborators CARD [add @a|remove @a]",
                   summary="who a card asks for their debrief (names of who has not added "
                   "yet: its opener only)")(collaborators_command)
    app.subcommand("nudges", usage="nudges [off|on|CARD off|every N days]",
                   summary="your nudges: one DM when you have added nothing to a card you "
                   "are on for a while")(nudges_command)
