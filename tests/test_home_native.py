"""The App Home's buttons (log a learning, reflect, search, my history) and paging through a
long history instead of stopping at Slack's 100 blocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db.models import Entry, Reflection
from tests.kit.fake_slack import TEAM_ID
from tests.kit.slack_requests import fill
from tests.test_home import open_home, text_of

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def buttons(view: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else \
            [block["accessory"]] if block.get("accessory", {}).get("type") == "button" else []
        for element in elements:
            found.setdefault(element["text"]["text"], element)
    return found


def press(bot, view: dict, label: str, user: str = "U_ALICE"):
    button = buttons(view)[label]
    action = {"action_id": button["action_id"]}
    if "value" in button:
        action["value"] = button["value"]
    return bot.slack.block_action(action, user=user, view=view)


def published(fake_slack, count: int, user: str = "U_ALICE") -> dict:
    call = fake_slack.wait_for("views.publish", count)[count - 1]
    assert call.body["user_id"] == user
    return call.body["view"]


def journal_of(db, user: str, entries: int, reflections: int) -> None:
    """`entries` entries and `reflections` reflections, one an hour, the newest first."""
    with db.session() as session:
        for n in range(entries + reflections):
            at = T0 - timedelta(hours=n)
            if n % 13 == 5 and reflections:
                reflections -= 1
                session.add(Reflection(team_id=TEAM_ID, author_id=user, prompts=["Happened"],
                                       answers=[f"reflection {n}"], created_at=at))
            else:
                session.add(Entry(team_id=TEAM_ID, channel_id="C_TEAM", author_id=user,
                                  kind="win", text=f"item {n} " + "x" * 2500,
                                  visibility="team" if n % 2 else "private", created_at=at))
        session.commit()


def items(view: dict) -> list[str]:
    """What each history line is about: `item N` or `reflection N`, in order."""
    found = []
    for block in view["blocks"]:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        for word in ("item ", "reflection "):
            if word in text:
                found.append(word + text.split(word, 1)[1].split()[0])
    return found


def test_the_home_has_the_four_buttons(bot, fake_slack, db):
    view = open_home(bot, fake_slack)
    assert {"Log a learning", "Reflect", "Search", "My history"} <= set(buttons(view))
    assert view["blocks"][1]["type"] == "actions"  # first thing under the title


def test_log_a_learning_from_the_home_asks_for_the_channel(bot, fake_slack, db):
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_OPS"]  # where she may post
    home = open_home(bot, fake_slack)
    assert press(bot, home, "Log a learning").status == 200
    form = fake_slack.wait_for("views.open")[0].body["view"]
    assert form["callback_id"] == "debrief_entry"
    picker = form["blocks"][0]
    assert (picker["block_id"], picker["element"]["type"]) == ("post_to", "conversations_select")

    unpicked = bot.slack.view_submission(form, fill(form, {
        "kind": "win", "text": "the new onboarding doc worked"}))
    assert "post_to" in unpicked.json()["errors"]
    with db.session() as session:
        assert session.scalars(select(Entry)).all() == []

    bot.slack.view_submission(form, fill(form, {
        "post_to": "C_OPS", "kind": "win", "text": "the new onboarding doc worked"}))
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post.body["channel"] == "C_OPS"
    assert "onboarding doc" in post.blocks_text()
    with db.session() as session:
        [entry] = session.scalars(select(Entry))
        assert (entry.channel_id, entry.author_id) == ("C_OPS", "U_ALICE")


def test_reflect_from_the_home_opens_the_hope_form(bot, fake_slack, db):
    press(bot, open_home(bot, fake_slack), "Reflect")
    assert fake_slack.wait_for("views.open")[0].body["view"]["callback_id"] == \
        "hope_reflection"


def test_search_from_the_home_shows_results_in_the_form(bot, fake_slack, db):
    bot.slack.command("lesson Roll back before you debug #deploy")
    fake_slack.wait_for("chat.postMessage")
    bot.settle()
    press(bot, open_home(bot, fake_slack), "Search")
    form = fake_slack.wait_for("views.open")[0].body["view"]
    assert form["callback_id"] == "debrief_search"

    nothing = bot.slack.view_submission(form, fill(form, {"search": "the and of"}))
    assert "search" in nothing.json()["errors"]  # kept open, the query as typed

    answer = bot.slack.view_submission(form, fill(form, {"search": "debugging"}))
    assert answer.json()["response_action"] == "update"
    results = answer.json()["view"]
    shown = json.dumps(results)
    assert "Roll back before you debug" in shown
    with db.session() as session:
        link = session.get(Entry, 1).message_permalink
    assert f"<{link}|open>" in shown
    # The query stays in its field, to search again.
    assert results["blocks"][0]["element"]["initial_value"] == "debugging"
    again = bot.slack.view_submission(results, fill(results, {"search": "coffee"}))
    assert "Nothing found" in json.dumps(again.json()["view"])


def test_my_history_pages_through_everything_with_older_and_newer(bot, fake_slack, db):
    journal_of(db, "U_ALICE", entries=60, reflections=5)
    home = open_home(bot, fake_slack)
    assert len(home["blocks"]) <= 100

    press(bot, home, "My history")
    first = published(fake_slack, 2)
    assert "Page 1 of 3" in text_of(first)
    assert items(first)[:6] == ["item 0", "item 1", "item 2", "item 3", "item 4",
                                "reflection 5"]
    assert "Newer" not in "".join(buttons(first))

    press(bot, first, "Older ›")
    second = published(fake_slack, 3)
    assert "Page 2 of 3" in text_of(second)
    assert items(second)[0] == "item 25"

    press(bot, second, "Older ›")
    third = published(fake_slack, 4)
    assert len(items(third)) == 65 - 50
    assert "Older ›" not in buttons(third)

    press(bot, third, "‹ Newer")
    assert items(published(fake_slack, 5)) == items(second)
    seen = items(first) + items(second) + items(third)
    assert len(seen) == len(set(seen)) == 65  # every entry and reflection, once
    for view in (first, second, third):
        assert len(view["blocks"]) <= 100
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])
    assert all(call.ok for call in fake_slack.calls_to("views.publish"))

    press(bot, third, "Back to Home")
    assert "The team's latest learnings" in text_of(published(fake_slack, 6))


def test_a_reflection_in_the_history_opens_for_its_author(bot, fake_slack, db):
    journal_of(db, "U_ALICE", entries=6, reflections=1)
    press(bot, open_home(bot, fake_slack), "My history")
    history = published(fake_slack, 2)
    assert items(history) == ["item 0", "item 1", "item 2", "item 3", "item 4",
                              "reflection 5", "item 6"]
    press(bot, history, "Read")
    read = fake_slack.wait_for("views.open")[0].body["view"]
    assert "reflection 5" in json.dumps(read)


def test_a_page_is_only_ever_published_to_who_pressed(bot, fake_slack, db):
    journal_of(db, "U_ALICE", entries=30, reflections=0)
    home = open_home(bot, fake_slack)
    press(bot, home, "My history", user="U_MALLORY")  # a copy of Alice's Home's button
    view = published(fake_slack, 2, user="U_MALLORY")
    assert "item" not in text_of(view)  # Mallory's own (empty) history
    assert "Nothing yet" in text_of(view)
