"""Opportunity → check back → lesson: planning the ask at the author's local hour, the DM
and its answers, exactly once across clocks, paused while away, cards, Home, forget-me."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import func, select, update

from bot.clock import check_back_due
from bot.db.models import (
    CheckBack,
    Entry,
    OutboxMessage,
    Rotation,
    RotationMember,
    utcnow,
)
from bot.services import checkback
from tests.kit.clocks import two_clocks
from tests.kit.fake_slack import Call
from tests.kit.slack_requests import fill

FRIDAY = "2026-03-20 15:00:00"  # a Friday; Berlin springs forward on Sunday 29 March


def berlin(fake_slack, user="U_ALICE") -> None:
    fake_slack.users[user] = {"id": user, "name": user.lower(), "tz": "Europe/Berlin"}


def checks(db) -> list[CheckBack]:
    with db.session() as session:
        return list(session.scalars(select(CheckBack).order_by(CheckBack.id)))


def make_due(db, when: datetime | None = None) -> None:
    with db.session() as session:
        session.execute(update(CheckBack).where(CheckBack.status.in_(["open", "asked"]))
                        .values(due_at=when or utcnow() - timedelta(minutes=1)))
        session.commit()


def planned_note(fake_slack) -> dict:
    """The ephemeral that says when I'll check back (other ephemerals carry blocks too:
    the look back)."""
    def note(call: Call) -> bool:
        return "Another time?" in call.body.get("text", "")

    fake_slack.wait_until(lambda: any(note(c) for c in fake_slack.calls_to("chat.postEphemeral")),
                          what="the check-back note")
    return next(c.body for c in fake_slack.calls_to("chat.postEphemeral") if note(c))


def buttons(body: dict) -> dict[str, dict]:
    return {e["text"]["text"]: e for b in body["blocks"] if b["type"] == "actions"
            for e in b["elements"]}


def press(bot, button: dict, **kwargs):
    return bot.slack.block_action({"action_id": button["action_id"], "value": button["value"]},
                                  **kwargs)


def ask(bot, fake_slack, db) -> dict:
    """Make every open check-back due, run the clock's tick, and return the DM."""
    def dms() -> list:
        return [c for c in fake_slack.succeeded("chat.postMessage")
                if c.body["channel"] == "U_ALICE" and "What came of it" in c.blocks_text()]

    before = len(dms())
    make_due(db)
    assert check_back_due(bot.runtime.db) >= 1
    bot.runtime.worker.wake()
    fake_slack.wait_until(lambda: len(dms()) > before, what="the check-back DM")
    bot.settle()  # and recorded where it went
    return dms()[-1]


def test_an_opportunity_is_asked_about_at_the_authors_local_hour(bot, fake_slack, db):
    berlin(fake_slack)
    with freeze_time(FRIDAY):
        answer = bot.slack.command("opp we skipped the load test before the sale")
    assert "Saved your opportunity" in answer.text
    note = planned_note(fake_slack)
    bot.settle()
    [check] = checks(db)
    # Two weeks on: Friday 3 April, 10:00 in Berlin, which is CEST by then (08:00 UTC).
    assert check.due_at == datetime(2026, 4, 3, 8, 0, tzinfo=UTC)
    assert (check.tz_name, check.plan, check.status) == ("Europe/Berlin", "after", "open")
    assert f"<!date^{int(check.due_at.timestamp())}^" in note["text"]
    assert list(buttons(note)) == ["In a week", "In two weeks", "In a month", "Don't ask"]

    with freeze_time(FRIDAY):
        press(bot, buttons(note)["In a month"])
    bot.settle()
    [check] = checks(db)
    assert check.due_at == datetime(2026, 4, 20, 8, 0, tzinfo=UTC)  # Sun 19 -> Mon 20 April
    assert "Got it" in fake_slack.calls_to("chat.postEphemeral")[-1].body["text"]
    press(bot, buttons(note)["Don't ask"])
    bot.settle()
    [check] = checks(db)
    assert (check.plan, check.due_at) == ("never", None)


def test_wins_and_lessons_are_not_followed(bot, fake_slack, db):
    bot.slack.command("win shipped")
    bot.slack.command("lesson pin versions")
    bot.settle()
    assert checks(db) == []


def test_the_ask_its_answers_and_the_lesson_in_the_opportunitys_thread(bot, fake_slack, db):
    bot.slack.command("opp the release notes were late again")
    bot.settle()
    [opportunity_post] = [c for c in fake_slack.succeeded("chat.postMessage")
                          if c.body["channel"] == "C_TEAM"]
    dm = ask(bot, fake_slack, db)
    assert "the release notes were late again" in dm.blocks_text()
    assert list(buttons(dm.body)) == ["Log what we learned", "Not yet", "Drop it"]
    assert check_back_due(bot.runtime.db) == 0  # asked once

    press(bot, buttons(dm.body)["Not yet"], user="U_ALICE", channel="D_ALICE")
    bot.settle()
    [check] = checks(db)
    assert check.status == "open" and check.due_at > utcnow() + timedelta(days=5)
    [answered] = [c for c in fake_slack.succeeded("chat.update") if c.body["channel"] == "D_ALICE"]
    assert "I'll ask you what came of it on" in answered.blocks_text()

    dm = ask(bot, fake_slack, db)
    assert "What came of it (again)?" in dm.blocks_text()
    press(bot, buttons(dm.body)["Log what we learned"], user="U_ALICE", channel="D_ALICE")
    form = fake_slack.wait_for("views.open")[0].body["view"]
    assert form["title"]["text"] == "What we learned"
    kind = next(b for b in form["blocks"] if b["block_id"] == "kind")
    assert kind["element"]["initial_option"]["value"] == "lesson"
    bot.slack.view_submission(form, fill(form, {"text": "Write release notes as we merge"}))
    bot.settle()
    [check] = checks(db)
    with db.session() as session:
        lesson = session.scalar(select(Entry).where(Entry.kind == "lesson"))
    assert (check.status, check.lesson_id, check.due_at) == ("learned", lesson.id, None)
    [reply] = [c for c in fake_slack.succeeded("chat.postMessage")
               if "Write release notes" in c.blocks_text()]
    assert reply.body["thread_ts"] == opportunity_post.response["ts"]
    closed = [c for c in fake_slack.succeeded("chat.update") if c.body["channel"] == "D_ALICE"]
    assert "closing the loop" in closed[-1].blocks_text()
    # A closed opportunity is not asked about again, whatever the buttons say.
    press(bot, buttons(dm.body)["Not yet"], user="U_ALICE", channel="D_ALICE")
    bot.settle()
    assert "closed already" in fake_slack.calls_to("chat.postEphemeral")[-1].body["text"]


def test_an_anonymous_opportunitys_lesson_is_not_threaded_to_it(bot, fake_slack, db):
    bot.slack.command("")
    form = fake_slack.wait_for("views.open")[0].body["view"]
    bot.slack.view_submission(form, fill(form, {"kind": "opportunity", "text": "I broke prod",
                                                "anonymous": ["yes"]}))
    bot.settle()
    dm = ask(bot, fake_slack, db)
    press(bot, buttons(dm.body)["Log what we learned"], user="U_ALICE", channel="D_ALICE")
    lesson_form = fake_slack.wait_for("views.open", 2)[1].body["view"]
    bot.slack.view_submission(lesson_form, fill(lesson_form, {"text": "Feature flags first"}))
    bot.settle()
    [reply] = [c for c in fake_slack.succeeded("chat.postMessage")
               if "Feature flags first" in c.blocks_text()]
    assert "thread_ts" not in reply.body  # threading would tie it to its author


def test_drop_it_closes_the_opportunity(bot, fake_slack, db):
    bot.slack.command("opp nobody owned the flaky test")
    bot.settle()
    dm = ask(bot, fake_slack, db)
    press(bot, buttons(dm.body)["Drop it"], user="U_ALICE", channel="D_ALICE")
    bot.settle()
    [check] = checks(db)
    assert (check.status, check.due_at) == ("dropped", None)
    make_due(db)
    assert check_back_due(bot.runtime.db) == 0


def test_only_its_author_answers(bot, fake_slack, db):
    bot.slack.command("opp mine")
    bot.settle()
    dm = ask(bot, fake_slack, db)
    press(bot, buttons(dm.body)["Drop it"], user="U_MALLORY", channel="D_MALLORY")
    bot.settle()
    assert checks(db)[0].status == "asked"


def test_two_clocks_ask_each_exactly_once(bot, database_url, db):
    for n in range(30):
        bot.slack.command(f"opp number {n}", user=f"U{n:03d}")
    bot.settle()
    make_due(db)
    asked = two_clocks(database_url, check_back_due)
    assert sum(asked) == 30
    with db.session() as session:
        rows = session.scalars(select(OutboxMessage.user_id).where(
            OutboxMessage.action == "checkback_ask")).all()
    assert sorted(rows) == sorted(f"U{n:03d}" for n in range(30))


def test_asks_wait_while_the_author_is_away(bot, fake_slack, db):
    bot.slack.command("opp the on-call handover was rushed")
    bot.settle()
    back = date.today() + timedelta(days=3)
    with db.session() as session:
        rotation = Rotation(team_id="T0001", channel_id="C_TEAM", days="", paused=False,
                            lead_minutes=10)
        session.add(rotation)
        session.flush()
        session.add(RotationMember(team_id="T0001", rotation_id=rotation.id,
                                   user_id="U_ALICE", away_until=back, deactivated=False))
        session.commit()
    make_due(db)
    assert check_back_due(bot.runtime.db) == 0
    [check] = checks(db)
    first_day_back = back + timedelta(days=1)
    while first_day_back.weekday() >= 5:
        first_day_back += timedelta(days=1)
    assert (check.status, check.due_at) == ("open", checkback.ask_on(first_day_back, None))


def test_the_ask_is_at_the_local_hour_across_dst():
    berlin = "Europe/Berlin"
    # Planned in winter time, asked in summer time: still 10:00 on the wall clock.
    spring = checkback.in_days(datetime(2026, 3, 20, 15, tzinfo=UTC), 14, berlin)
    assert spring == datetime(2026, 4, 3, 8, 0, tzinfo=UTC)
    autumn = checkback.in_days(datetime(2026, 10, 16, 15, tzinfo=UTC), 14, berlin)
    assert autumn == datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
    # A weekend moves to the Monday after.
    assert checkback.ask_on(date(2026, 4, 4), berlin) == datetime(2026, 4, 6, 8, 0, tzinfo=UTC)


def test_a_card_shows_its_opportunities_and_the_lessons_they_became(bot, fake_slack, db):
    bot.slack.command("card Checkout")
    bot.settle()
    for n, text in enumerate(("We guessed the tax rules", "Nobody tested on Safari"), 1):
        bot.slack.command("")
        form = fake_slack.wait_for("views.open", n)[n - 1].body["view"]
        card = next(b for b in form["blocks"] if b["block_id"] == "card")
        card_id = card["element"]["options"][1]["value"]
        bot.slack.view_submission(form, fill(form, {"kind": "opportunity", "text": text,
                                                    "card": card_id}))
        bot.settle()
    note = planned_note(fake_slack)
    assert "When its card closes" in buttons(note)
    with db.session() as session:
        first = session.scalar(select(CheckBack).order_by(CheckBack.id))
        session.execute(update(CheckBack).where(CheckBack.id == first.id).values(due_at=None))
        session.commit()
    # The second waits for its card.
    second = [c.body for c in fake_slack.calls_to("chat.postEphemeral") if "blocks" in c.body][-1]
    press(bot, buttons(second)["When its card closes"])
    bot.settle()
    assert checks(db)[1].plan == "card"
    # The first became a lesson.
    with db.session() as session:
        session.execute(update(CheckBack).where(CheckBack.id == first.id)
                        .values(due_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    assert check_back_due(bot.runtime.db) == 1
    bot.runtime.worker.wake()
    fake_slack.wait_until(lambda: any(c.body["channel"] == "U_ALICE" for c in
                                      fake_slack.succeeded("chat.postMessage")))
    bot.settle()
    dm = [c for c in fake_slack.succeeded("chat.postMessage") if c.body["channel"] == "U_ALICE"][0]
    press(bot, buttons(dm.body)["Log what we learned"], user="U_ALICE", channel="D_ALICE")
    fake_slack.wait_until(lambda: fake_slack.calls_to("views.open")[-1].body["view"]["title"]
                          ["text"] == "What we learned")
    lesson_form = fake_slack.calls_to("views.open")[-1].body["view"]
    bot.slack.view_submission(lesson_form, fill(lesson_form, {
        "text": "Ask finance for the tax table up front"}))
    bot.settle()

    closed = bot.slack.command("close Checkout")
    assert "Closed card" in closed.text
    # Posts in one channel are paced (a second apart): wait for it rather than settle.
    fake_slack.wait_until(lambda: any("Debrief of Checkout" in c.blocks_text() for c in
                                      fake_slack.succeeded("chat.postMessage")), timeout=20)
    [debrief] = [c for c in fake_slack.succeeded("chat.postMessage")
                 if "Debrief of Checkout" in c.blocks_text()]
    text = debrief.blocks_text()
    assert "1 of 2 became lessons, 1 still open" in text
    assert "Ask finance for the tax table up front" in text and "_still open_" in text
    # Closing the card made the waiting one due: it is asked now.
    assert check_back_due(bot.runtime.db) == 1


def test_the_home_tab_lists_open_opportunities(bot, fake_slack, db):
    bot.slack.command("opp the retro had no actions")
    bot.slack.command("opp someone else's", user="U_BOB", channel="C_BOBS")  # not hers to see
    bot.settle()
    bot.slack.event({"type": "app_home_opened", "user": "U_ALICE", "tab": "home"})
    bot.settle()
    home = fake_slack.succeeded("views.publish")[-1].blocks_text()
    home = str(fake_slack.succeeded("views.publish")[-1].body["view"])
    assert "Your open opportunities" in home
    assert "the retro had no actions" in home and "someone else" not in home


def test_forget_me_erases_check_backs_and_their_dms(bot, fake_slack, db):
    bot.slack.command("opp to be forgotten")
    bot.settle()
    dm = ask(bot, fake_slack, db)
    bot.settle()
    bot.slack.command("forget-me")
    form = fake_slack.wait_for("views.open")[0].body["view"]
    bot.slack.view_submission(form, {})
    bot.settle()
    assert checks(db) == []
    deleted = [(c.body["channel"], c.body["ts"]) for c in fake_slack.succeeded("chat.delete")]
    assert ("D_ALICE", dm.response["ts"]) in deleted
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 0


def test_an_admin_sets_when_opportunities_are_asked_about(bot, fake_slack, db):
    fake_slack.users["U_ADMIN"] = {"id": "U_ADMIN", "is_admin": True}
    bot.slack.command("settings", user="U_ADMIN")
    view = fake_slack.wait_for("views.update")[0].body["view"]
    block = next(b for b in view["blocks"] if b.get("block_id") == "check_back_days")
    assert block["element"]["initial_option"]["value"] == "14"  # two weeks by default
    bot.slack.view_submission(view, fill(view, {"check_back_days": "7"}), user="U_ADMIN")
    with freeze_time(FRIDAY):
        bot.slack.command("opp the API docs drifted")
    bot.settle()
    [check] = checks(db)
    assert check.due_at == datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # a week on, 10:00 UTC
    bot.slack.command("settings", user="U_ADMIN")
    view = fake_slack.wait_for("views.update", 2)[1].body["view"]
    bot.slack.view_submission(view, fill(view, {"check_back_days": "0"}), user="U_ADMIN")
    bot.slack.command("opp never ask me")
    bot.settle()
    assert [(c.plan, c.due_at) for c in checks(db)][1] == ("never", None)
