"""Text people wrote is rendered verbatim wherever the bot shows it (PRODUCT.md §2, §7):
Slack then never turns a name, a channel or an address in it into a link or a mention.

Each test walks one or more surfaces through signed HTTP and the fake Slack, then looks at
everything the bot sent or answered: every mrkdwn text object that holds the words must
be verbatim (plain_text objects show text as it is by nature)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bot.clock import nudge_due, post_due_digests, send_rotation_reminders
from tests.kit.slack_requests import fill
from tests.test_card_close import debrief_post
from tests.test_cards import add_from_card, open_card
from tests.test_checkback import ask as check_back_dm
from tests.test_collaborators import ANA, mention, press
from tests.test_digest import add, due_now
from tests.test_home import open_home
from tests.test_home_native import press as press_home
from tests.test_nudges import nudges_to, quiet_since, replan, utc
from tests.test_rotation_reminders import rotation_due

WRITTEN = "ping ana and #general at example.com"
MARKS = ("example.com", "#general")  # never in the bot's own words


def mrkdwn(node: Any) -> Iterator[dict]:
    """Every mrkdwn text object anywhere in a message, a view or an answer."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node
        for value in node.values():
            yield from mrkdwn(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn(item)


def holding(node: Any) -> list[dict]:
    return [part for part in mrkdwn(node) if any(m in part.get("text", "") for m in MARKS)]


def shown(fake_slack, answers=()) -> list[Any]:
    """All the bot sent to Slack, and the answers it gave to requests."""
    bodies: list[Any] = [call.body for call in fake_slack.calls]
    for answer in answers:
        if answer.body and answer.body.strip().startswith(b"{"):
            bodies.append(answer.json())
    return bodies


def assert_verbatim(fake_slack, answers=()) -> None:
    loose = [part["text"] for body in shown(fake_slack, answers) for part in holding(body)
             if part.get("verbatim") is not True]
    assert not loose, f"people's words Slack may turn into links: {loose}"


def assert_shows(node: Any, what: str) -> None:
    """The surface was reached and holds the words (so the check above saw it)."""
    assert holding(node), f"the words are not in {what}: {json.dumps(node)[:500]}"


def test_posts_search_app_home_and_look_back_are_verbatim(bot, fake_slack, db):
    answers = [bot.slack.command(f"lesson {WRITTEN}")]
    bot.settle()
    answers.append(bot.slack.command(f"lesson {WRITTEN} again"))  # looks back at the first
    fake_slack.wait_until(lambda: any("learned this before" in c.blocks_text()
                                      for c in fake_slack.calls_to("chat.postEphemeral")),
                          what="the look back")
    bot.settle()
    [post, *_] = fake_slack.succeeded("chat.postMessage")
    assert_shows(post.body, "the entry's post")
    confirm = [c.body for c in fake_slack.calls_to("chat.postEphemeral") if c.body.get("blocks")]
    assert_shows(confirm[-1], "the confirmation with its look back")

    search = bot.slack.command("search example.com")
    answers.append(search)
    assert_shows(search.json(), "/debrief search")
    answers.append(bot.slack.command("serch example.com"))  # did you mean, with the words

    bot.slack.command("ask what about example.com")
    looked = fake_slack.wait_for("response_url")[-1].body
    assert_shows(looked, "/debrief ask")

    home = open_home(bot, fake_slack)
    assert_shows(home, "the App Home")
    press_home(bot, home, "Search")
    form = fake_slack.wait_for("views.open")[-1].body["view"]
    found = bot.slack.view_submission(form, fill(form, {"search": "example.com"}))
    answers.append(found)
    assert_shows(found.json()["view"], "the App Home's search")

    answers.append(bot.slack.command("health"))
    fake_slack.wait_for("files.completeUploadExternal")
    bot.settle()
    assert_verbatim(fake_slack, answers)


def test_the_capture_form_quotes_verbatim(bot, fake_slack, db):
    message = {"type": "message", "user": "U_BOB", "ts": "1700000000.000200", "text": WRITTEN}
    bot.slack.message_shortcut("capture_learning", message)
    opened = fake_slack.wait_for("views.open")[0].body["view"]
    assert_shows(opened, "the capture form")
    fake_slack.wait_for("views.update")
    assert_verbatim(fake_slack)


def test_a_card_its_nudge_its_ask_and_its_debrief_with_the_loop_are_verbatim(
        bot, fake_slack, db):
    card, post = open_card(bot, fake_slack, db, f"Launch example.com {mention(ANA)}")
    assert_shows(post.body, "the card")
    add_from_card(bot, fake_slack, card, "opportunity", WRITTEN)
    bot.settle()

    quiet_since(db, ANA, utc(2026, 11, 2, 9))
    replan(bot)
    assert nudge_due(db, utc(2026, 11, 9, 10)) == 1
    [nudge] = nudges_to(bot, fake_slack, ANA)
    assert_shows(nudge.body, "the nudge DM")

    prompt = bot.slack.command("close 1")
    assert_shows(prompt.json(), "the close prompt")
    press(bot, "card_ask_first", card, "U_ALICE")
    bot.settle()
    [asked] = [c for c in fake_slack.succeeded("chat.postMessage")
               if c.body["channel"] == ANA and "about to close" in c.body["text"]]
    assert_shows(asked.body, "the ask-first DM")

    press(bot, "card_close_anyway", card, "U_ALICE")
    debrief = debrief_post(fake_slack)
    assert "From opportunity to lesson" in debrief.blocks_text()
    loop = [b for b in debrief.body["blocks"] if "From opportunity" in json.dumps(b)]
    assert_shows(loop, "the debrief's opportunity loop")
    assert_verbatim(fake_slack, [prompt])


def test_the_check_back_dm_is_verbatim(bot, fake_slack, db):
    bot.slack.command(f"opp {WRITTEN}")
    bot.settle()
    dm = check_back_dm(bot, fake_slack, db)
    assert_shows(dm.body, "the check-back DM")
    assert_verbatim(fake_slack)


def test_the_digest_is_verbatim(bot, fake_slack, db):
    fake_slack.users["U_ALICE"] = {"id": "U_ALICE", "is_admin": True}
    bot.slack.command("digest here weekly mon 09:00")
    with db.session() as session:
        add(session, WRITTEN, claps=2)
        session.commit()
    due_now(db)
    post_due_digests(bot.runtime)
    bot.settle()
    [post] = [c for c in fake_slack.calls_to("chat.postMessage") if "learnings" in c.body["text"]]
    assert_shows(post.body, "the digest")
    assert_verbatim(fake_slack)


def test_the_rotation_dm_is_verbatim(bot, fake_slack, db):
    fake_slack.users["U_ANA"] = {"id": "U_ANA", "deleted": False}
    bot.slack.command(f"lesson {WRITTEN}", user="U_ANA", channel="C_ELSE")
    rotation_due(db, people=("U_ANA",))
    send_rotation_reminders(bot.runtime)
    bot.settle()
    [dm] = [c for c in fake_slack.calls_to("chat.postMessage") if c.body["channel"] == "U_ANA"]
    assert_shows(dm.body, "the rotation DM")
    assert_verbatim(fake_slack)
