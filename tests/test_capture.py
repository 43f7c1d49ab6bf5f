"""Capture where the learning happens: the message shortcut, the speaker's consent, the
global shortcut, and `/debrief TEXT` without a kind."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.models import Capture, Draft, Entry

MESSAGE = {"user": "U_BOB", "ts": "1700000000.000200",
           "text": "next time we pin the base image &amp; check <@U_CAROL|carol>'s runbook"}
TYPED = "next time we pin the base image & check @carol's runbook"


def capture(bot, fake_slack, message=MESSAGE, **kwargs) -> dict:
    """Run the message shortcut; the form as Slack shows it once its link is in."""
    answer = bot.slack.message_shortcut("capture_learning", message, **kwargs)
    assert answer.status == 200 and answer.body in (b"", b"{}")
    opened = fake_slack.wait_for("views.open")[0].body["view"]
    fake_slack.wait_for("views.update")
    return fake_slack.calls_to("views.update")[-1].body["view"] or opened


def entries(db) -> list[Entry]:
    with db.session() as session:
        return list(session.scalars(select(Entry).order_by(Entry.id)))


def submit(bot, view, user="U_ALICE", **answers):
    from tests.kit.slack_requests import fill
    return bot.slack.view_submission(view, fill(view, answers), user=user)


def test_the_shortcut_opens_the_form_with_the_message_quoted_and_linked(bot, fake_slack):
    gate = fake_slack.hold("views.open")
    answer = bot.slack.message_shortcut("capture_learning", MESSAGE)
    assert answer.status == 200  # acknowledged while Slack still holds views.open
    gate.set()
    opened = fake_slack.wait_for("views.open")[0].body["view"]
    text_block = next(b for b in opened["blocks"] if b.get("block_id") == "text")
    assert text_block["element"]["initial_value"] == TYPED  # as the person saw it
    assert "&gt; next time we pin" in json.dumps(opened["blocks"][0]) or \
        "> next time we pin" in opened["blocks"][0]["text"]["text"]
    link = fake_slack.wait_for("chat.getPermalink")[0].body
    assert (link["channel"], link["message_ts"]) == ("C_TEAM", MESSAGE["ts"])
    updated = fake_slack.wait_for("views.update")[0].body
    assert "archives/C_TEAM/p1700000000000200|open the message" in json.dumps(updated["view"])
    assert json.loads(updated["view"]["private_metadata"])["capture"]["permalink"].endswith(
        "/p1700000000000200")


def test_the_speaker_is_not_named_until_they_agree(bot, fake_slack, db):
    view = capture(bot, fake_slack)
    answer = submit(bot, view, kind="lesson")
    assert answer.status == 200 and "errors" not in answer.body.decode()
    [entry] = entries(db)
    assert (entry.author_id, entry.kind, entry.source, entry.channel_id) == (
        "U_ALICE", "lesson", "capture", "C_TEAM")
    assert entry.text == TYPED
    bot.settle()
    [post] = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "C_TEAM"]
    assert "U_BOB" not in post.blocks_text() and "archives" not in post.blocks_text()
    assert "Captured from a teammate's message" in post.blocks_text()
    [ask] = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "U_BOB"]
    assert "<@U_ALICE> captured your message as a lesson" in ask.blocks_text()
    assert [e["text"]["text"] for e in ask.body["blocks"][-1]["elements"]] == [
        "Keep my name on it", "Make it anonymous", "Remove it"]

    keep = ask.body["blocks"][-1]["elements"][0]
    bot.slack.block_action({"action_id": keep["action_id"], "value": keep["value"]},
                           user="U_BOB", channel="D_BOB", message={"ts": ask.response["ts"]})
    bot.settle()
    [redraw] = [c for c in fake_slack.succeeded("chat.update") if c.body["channel"] == "C_TEAM"]
    assert redraw.body["ts"] == post.response["ts"]
    assert "From a message by <@U_BOB>" in redraw.blocks_text()
    assert "archives/C_TEAM/p1700000000000200" in redraw.blocks_text()
    [answered] = [c for c in fake_slack.succeeded("chat.update") if c.body["channel"] == "D_BOB"]
    assert "Your name is on it" in answered.blocks_text()


def test_the_speaker_may_stay_anonymous_or_have_it_removed(bot, fake_slack, db):
    view = capture(bot, fake_slack)
    submit(bot, view, kind="opportunity")
    bot.settle()
    [ask] = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "U_BOB"]
    buttons = {b["text"]["text"]: b for b in ask.body["blocks"][-1]["elements"]}
    anonymous = buttons["Make it anonymous"]
    bot.slack.block_action({"action_id": anonymous["action_id"], "value": anonymous["value"]},
                           user="U_BOB", channel="D_BOB")
    bot.settle()
    redraws = [c for c in fake_slack.succeeded("chat.update") if c.body["channel"] == "C_TEAM"]
    assert redraws and all("U_BOB" not in c.blocks_text() for c in redraws)
    with db.session() as session:
        assert session.scalar(select(Capture.credit)) == "anonymous"

    remove = buttons["Remove it"]
    assert remove["confirm"]["confirm"]["text"] == "Remove"  # asks before it deletes
    bot.slack.block_action({"action_id": remove["action_id"], "value": remove["value"]},
                           user="U_BOB", channel="D_BOB")
    bot.settle()
    assert entries(db) == []
    [post] = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "C_TEAM"]
    assert [c.body["ts"] for c in fake_slack.succeeded("chat.delete")] == [post.response["ts"]]
    told = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "U_ALICE"]
    assert any("was removed" in c.body["text"] for c in told)


def test_an_anonymous_capturer_stays_unnamed_in_the_speakers_dm(bot, fake_slack, db):
    fake_slack.users["U_ALICE"] = {"id": "U_ALICE", "name": "alice.w", "deleted": False,
                                   "real_name": "Alice Wong",
                                   "profile": {"display_name": "Alice W"}}
    submit(bot, capture(bot, fake_slack), kind="lesson", anonymous=["yes"])
    bot.settle()
    [entry] = entries(db)
    assert entry.anonymous and entry.author_id == "U_ALICE"
    [ask] = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "U_BOB"]
    assert "A teammate (anonymously) captured your message" in ask.body["text"]
    said = json.dumps({"text": ask.body["text"], "blocks": ask.body["blocks"]}).lower()
    for name in ("u_alice", "alice"):
        assert name not in said
    # Its answer keeps it so.
    keep = ask.body["blocks"][-1]["elements"][0]
    bot.slack.block_action({"action_id": keep["action_id"], "value": keep["value"]},
                           user="U_BOB", channel="D_BOB", message={"ts": ask.response["ts"]})
    bot.settle()
    [answered] = [c for c in fake_slack.succeeded("chat.update") if c.body["channel"] == "D_BOB"]
    assert "alice" not in json.dumps(answered.body).lower()


def test_only_the_speaker_answers(bot, fake_slack, db):
    submit(bot, capture(bot, fake_slack), kind="lesson")
    bot.settle()
    [ask] = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "U_BOB"]
    remove = ask.body["blocks"][-1]["elements"][2]
    bot.slack.block_action({"action_id": remove["action_id"], "value": remove["value"]},
                           user="U_ALICE", channel="C_TEAM")
    bot.settle()
    assert len(entries(db)) == 1
    [refused] = fake_slack.calls_to("chat.postEphemeral")[-1:]
    assert refused.body["user"] == "U_ALICE" and "no longer there" in refused.body["text"]


def test_capturing_your_own_message_names_you_and_links_it(bot, fake_slack, db):
    view = capture(bot, fake_slack, {**MESSAGE, "user": "U_ALICE"})
    submit(bot, view, kind="lesson")
    bot.settle()
    assert [c.body["channel"] for c in fake_slack.succeeded("chat.postMessage")] == ["C_TEAM"]
    post = fake_slack.succeeded("chat.postMessage")[0]
    assert "Captured from a message · <https://test.slack.com/archives/C_TEAM/" \
        in post.blocks_text()


def test_a_private_capture_tells_nobody(bot, fake_slack, db):
    submit(bot, capture(bot, fake_slack), kind="lesson", visibility="private")
    bot.settle()
    assert fake_slack.calls_to("chat.postMessage") == []
    [entry] = entries(db)
    assert entry.visibility == "private"


def test_a_bot_message_has_nobody_to_ask(bot, fake_slack, db):
    view = capture(bot, fake_slack, {"bot_id": "B9", "ts": "1700000000.000300",
                                     "text": "deploy failed"})
    submit(bot, view, kind="opportunity")
    bot.settle()
    assert [c.body["channel"] for c in fake_slack.succeeded("chat.postMessage")] == ["C_TEAM"]


def test_a_direct_message_is_captured_into_a_channel_you_pick(bot, fake_slack, db):
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_OTHER"]  # where she may post
    view = capture(bot, fake_slack, channel="D_ALICE_BOB", channel_name="directmessage")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "post_to")
    assert picker["element"]["type"] == "conversations_select"
    assert picker["element"]["filter"]["include"] == ["public", "private"]
    answer = submit(bot, view, kind="lesson", post_to=None)
    assert "post_to" in answer.json()["errors"]  # a channel is needed
    submit(bot, view, kind="lesson", post_to="C_OTHER")
    bot.settle()
    [entry] = entries(db)
    assert entry.channel_id == "C_OTHER"
    assert "C_OTHER" in [c.body["channel"] for c in fake_slack.succeeded("chat.postMessage")]


def test_the_global_shortcut_logs_a_learning_where_you_pick(bot, fake_slack, db):
    fake_slack.memberships["U_ALICE"] = ["C_TEAM", "C_GROWTH"]  # where she may post
    answer = bot.slack.global_shortcut("log_learning")
    assert answer.status == 200
    view = fake_slack.wait_for("views.open")[0].body["view"]
    picker = next(b for b in view["blocks"] if b.get("block_id") == "post_to")
    assert picker["element"]["type"] == "conversations_select"
    submit(bot, view, kind="win", text="Shipped the new onboarding #growth",
           post_to="C_GROWTH")
    bot.settle()
    [entry] = entries(db)
    assert (entry.channel_id, entry.kind, entry.source) == ("C_GROWTH", "win", "modal")
    assert [c.body["channel"] for c in fake_slack.succeeded("chat.postMessage")] == ["C_GROWTH"]


def test_free_text_is_kept_and_offered_as_an_entry(bot, fake_slack, db):
    answer = bot.slack.command("we shipped the checkout without a feature flag")
    body = answer.json()
    assert "Log what you typed as a win, an opportunity or a lesson" in body["text"]
    buttons = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == [
        "Log as a win", "Log as an opportunity", "Log as a lesson", "Open the form…"]
    assert entries(db) == []
    lesson = buttons[2]
    bot.slack.block_action({"action_id": lesson["action_id"], "value": lesson["value"]})
    bot.settle()
    [entry] = entries(db)
    assert (entry.kind, entry.text, entry.channel_id) == (
        "lesson", "we shipped the checkout without a feature flag", "C_TEAM")
    confirmations = [c.body["text"] for c in fake_slack.succeeded("chat.postEphemeral")]
    assert any("Saved your lesson" in text for text in confirmations)
    with db.session() as session:
        assert session.scalars(select(Draft)).all() == []  # used up
    bot.slack.block_action({"action_id": lesson["action_id"], "value": lesson["value"]})
    bot.settle()
    assert len(entries(db)) == 1  # a second press logs nothing more
    assert "logged already" in fake_slack.calls_to("chat.postEphemeral")[-1].body["text"]


def test_free_text_can_open_the_form_with_it(bot, fake_slack):
    body = bot.slack.command("the demo went well &amp; fast").json()
    form = next(e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["text"]["text"] == "Open the form…")
    bot.slack.block_action({"action_id": form["action_id"], "value": form["value"]})
    view = fake_slack.wait_for("views.open")[0].body["view"]
    text_block = next(b for b in view["blocks"] if b.get("block_id") == "text")
    assert text_block["element"]["initial_value"] == "the demo went well & fast"


def test_one_unknown_word_is_a_typo_not_an_entry(bot, fake_slack, db):
    answer = bot.slack.command("lesosn")
    assert "Did you mean `/debrief lesson`?" in answer.text
    assert "Log as" not in answer.body.decode()  # plain help: no buttons
    with db.session() as session:
        assert session.scalars(select(Draft)).all() == []


def test_a_near_miss_with_text_offers_both(bot):
    body = bot.slack.command("lesosn always pin versions").json()
    assert "Did you mean `/debrief lesson always pin versions`?" in body["text"]
    assert any(b["type"] == "actions" for b in body["blocks"])


def test_too_long_free_text_is_handed_back(bot, db):
    answer = bot.slack.command("words " * 600)
    assert "at most 3,000" in answer.text and "What you typed" in answer.text
    with db.session() as session:
        assert session.scalars(select(Draft)).all() == []


def test_forget_me_erases_what_others_captured_from_you(bot, fake_slack, db):
    submit(bot, capture(bot, fake_slack), kind="lesson")
    bot.settle()
    with db.session() as session:
        from bot.services import forget
        erased = forget.forget(session, "T0001", "U_BOB")
        session.commit()
    assert erased.captured == 1
    assert entries(db) == []


def test_the_manifest_declares_both_shortcuts():
    from pathlib import Path

    import yaml

    from bot.ids import LoopCallback
    manifest = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text())
    shortcuts = {s["callback_id"]: s for s in manifest["features"]["shortcuts"]}
    assert shortcuts[LoopCallback.CAPTURE]["type"] == "message"
    assert shortcuts[LoopCallback.LOG]["type"] == "global"
    assert shortcuts[LoopCallback.CAPTURE]["name"] == "Capture as a learning"
    assert shortcuts[LoopCallback.LOG]["name"] == "Log a learning"
