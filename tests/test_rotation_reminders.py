"""The reminder: posted once in the channel before the meeting, a DM with the person's own
ideas, its buttons, the turn marked shared, downtime, and two clocks on one database."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import send_rotation_reminders
from bot.db.models import OutboxMessage, Turn, utcnow
from bot.services import rotation, schedule
from bot.services.schedule import Schedule
from tests.kit.bot_server import BotServer, bot_settings

T, C = "T0001", "C_TEAM"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def people(fake_slack):
    fake_slack.users.update({u: {"id": u, "deleted": False, "tz": "Europe/Berlin"}
                             for u in ("U_ANA", "U_BEN", "U_CAM", "U_ALICE")})
    yield fake_slack.users
    fake_slack.users.clear()


def rotation_due(db, people=("U_ANA", "U_BEN", "U_CAM"), *, meeting_in=timedelta(minutes=5),
                 reminder_ago=timedelta(seconds=1)) -> None:
    """A rotation whose reminder fell due `reminder_ago`, its meeting `meeting_in` from now."""
    now = utcnow()
    with db.session() as session:
        for person in people:
            rotation.add(session, T, C, "U_LEAD", [person])
            session.flush()
        rota = rotation.apply_schedule(session, T, C, "U_LEAD",
                                       Schedule("0123456", "09:30", "Europe/Berlin", 10))
        meeting = now + meeting_in
        rota.next_meeting_at = meeting
        rota.next_meeting_date = meeting.astimezone(schedule.zone("Europe/Berlin")).date()
        rota.next_reminder_at = now - reminder_ago
        session.commit()


def the_turn(db) -> Turn:
    with db.session() as session:
        return session.scalars(select(Turn)).one()


def test_the_reminder_names_one_person_with_buttons_and_dms_their_own_ideas(
        bot, db, fake_slack, people):
    bot.slack.command("lesson pin your versions #deps", user="U_ANA")
    bot.slack.command("opportunity ask for review earlier", user="U_ANA")
    bot.slack.command("win I kept my private notes", user="U_ANA")  # a team win, her own
    bot.slack.command("lesson Ben's secret", user="U_BEN")
    fake_slack.wait_for("chat.postMessage", 4)
    rotation_due(db)

    assert send_rotation_reminders(bot.runtime) == 1
    reminder = fake_slack.wait_for("chat.postMessage", 5)[4]
    assert reminder.body["channel"] == C
    assert "<@U_ANA> is up" in reminder.body["text"]
    buttons = [e["text"]["text"] for b in reminder.body["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["I'll share", "Pass to next", "Skip today's meeting"]
    dm = fake_slack.wait_for("chat.postMessage", 6)[5]
    assert dm.body["channel"] == "U_ANA"
    text = dm.blocks_text()
    assert "pin your versions" in text and "ask for review earlier" in text
    assert "Ben" not in text  # never anyone else's entries
    bot.settle()
    assert the_turn(db).message_ts is not None  # recorded: the reminder is never re-posted


def test_a_second_tick_and_a_second_clock_send_nothing_more(bot, db, fake_slack, people):
    rotation_due(db)
    assert send_rotation_reminders(bot.runtime) == 1
    assert send_rotation_reminders(bot.runtime) == 0
    fake_slack.wait_for("chat.postMessage", 2)  # the reminder and the DM
    bot.settle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_pass_moves_the_turn_on_now_and_updates_the_reminder(bot, db, fake_slack, people):
    rotation_due(db)
    send_rotation_reminders(bot.runtime)
    reminder = fake_slack.wait_for("chat.postMessage", 2)[0]
    turn = the_turn(db)
    answer = bot.slack.block_action({"action_id": "rotation_pass", "value": str(turn.id)},
                                    user="U_ANA", message={"ts": turn.message_ts, "text": ""})
    assert answer.status == 200
    update = fake_slack.wait_for("chat.update")[0]
    assert update.body["ts"] == turn.message_ts
    assert "<@U_BEN> is up" in update.body["text"]
    dm = fake_slack.wait_for("chat.postMessage", 3)[2]
    assert dm.body["channel"] == "U_BEN"
    assert reminder.body["channel"] == C
    assert the_turn(db).passed_by == ["U_ANA"]


def test_skip_marks_the_meeting_skipped_and_ill_share_is_only_for_the_person(
        bot, db, fake_slack, people):
    rotation_due(db)
    send_rotation_reminders(bot.runtime)
    fake_slack.wait_for("chat.postMessage", 2)
    turn = the_turn(db)
    bot.slack.block_action({"action_id": "rotation_share", "value": str(turn.id)},
                           user="U_BEN")
    notice = fake_slack.wait_for("chat.postEphemeral")[0]
    assert notice.body["user"] == "U_BEN" and "It is <@U_ANA>'s turn" in notice.body["text"]
    assert the_turn(db).status == "reminded"
    bot.slack.block_action({"action_id": "rotation_share", "value": str(turn.id)},
                           user="U_ANA")
    assert "<@U_ANA> will share" in fake_slack.wait_for("chat.update")[0].body["text"]
    bot.slack.block_action({"action_id": "rotation_skip", "value": str(turn.id)}, user="U_CAM")
    update = fake_slack.wait_for("chat.update", 2)[1]
    assert "No share at the meeting" in update.body["text"]
    assert not [b for b in update.body["blocks"] if b["type"] == "actions"]
    assert the_turn(db).status == "skipped"


def test_logging_a_lesson_that_day_marks_the_turn_shared(bot, db, fake_slack, people):
    rotation_due(db)
    send_rotation_reminders(bot.runtime)
    fake_slack.wait_for("chat.postMessage", 2)
    bot.slack.command("win not a lesson", user="U_ANA")
    assert the_turn(db).status == "reminded"
    bot.slack.command("lesson anonymous ones do not count", user="U_BEN")
    bot.slack.command("lesson small batches ship faster", user="U_ANA")
    assert the_turn(db).status == "shared"
    assert "<@U_ANA> shared a learning" in fake_slack.wait_for("chat.update")[0].body["text"]


def test_a_deactivated_person_is_passed_over_at_send_time(bot, db, fake_slack, people):
    people["U_ANA"]["deleted"] = True
    rotation_due(db)
    send_rotation_reminders(bot.runtime)
    reminder = fake_slack.wait_for("chat.postMessage")[0]
    assert "<@U_BEN> is up" in reminder.body["text"]
    assert the_turn(db).user_id == "U_BEN"
    bot.settle()
    with db.session() as session:
        flagged = [m.user_id for m in rotation.members(session, rotation.get(session, T, C))
                   if m.deactivated]
    assert flagged == ["U_ANA"]
    assert "Added <@U_ANA>" in bot.slack.command("rotation add <@U_ANA|ana>").text  # back


def test_slack_is_asked_about_the_person_with_no_transaction_open(bot, db, fake_slack, people):
    # An open transaction would hold SQLite's writer lock while Slack takes its time.
    people["U_ANA"]["deleted"] = True
    answer = fake_slack.handlers["users.info"]
    held: list[int] = []

    def info(body: dict) -> dict:
        held.append(bot.runtime.db.engine.pool.checkedout())
        return answer(body)

    fake_slack.handlers["users.info"] = info
    try:
        rotation_due(db)
        send_rotation_reminders(bot.runtime)
        reminder = fake_slack.wait_for("chat.postMessage")[0]
    finally:
        fake_slack.handlers["users.info"] = answer
    assert "<@U_BEN> is up" in reminder.body["text"]
    assert held == [0, 0]  # Ana (deactivated), then Ben: no connection, no transaction


def test_a_reminder_missed_while_down_goes_out_on_start_if_the_meeting_has_not_begun(
        database_url, db, fake_slack, people):
    # Due twenty minutes ago (the bot was down), the meeting is in five minutes.
    rotation_due(db, reminder_ago=timedelta(minutes=20))
    server = BotServer(bot_settings(database_url, fake_slack.url))
    try:
        from bot.clock import build_scheduler

        scheduler = build_scheduler(server.runtime, blocking=False)
        scheduler.start()  # the rotation job's first run is at start
        try:
            reminder = fake_slack.wait_for("chat.postMessage")[0]
        finally:
            scheduler.shutdown(wait=True)
    finally:
        server.stop()
    assert reminder.body["channel"] == C


def test_after_the_meeting_began_no_reminder_is_sent(bot, db, fake_slack, people):
    rotation_due(db, meeting_in=timedelta(minutes=-1), reminder_ago=timedelta(minutes=11))
    assert send_rotation_reminders(bot.runtime) == 0
    bot.settle()
    assert fake_slack.calls_to("chat.postMessage") == []
    with db.session() as session:
        assert session.scalars(select(Turn)).all() == []
        rota = rotation.get(session, T, C)
        assert rota.next_meeting_at > utcnow()  # on to the next meeting


CLOCK = """
import sys, time
from bot.clock import remind_due
from bot.db import Database
url, start = sys.argv[1], float(sys.argv[2])
database = Database(url)
database.ping()  # connect before the start line, so both race on the claim itself
time.sleep(max(0.0, start - time.time()))
print(remind_due(database))
"""


def test_two_clock_processes_on_postgresql_send_exactly_one_reminder(database_url, db):
    if not database_url.startswith("postgresql"):
        pytest.skip("two clock processes share PostgreSQL; on SQLite writers queue anyway")
    channels = [f"C{n:02d}" for n in range(30)]
    now = utcnow()
    with db.session() as session:
        for channel in channels:
            rotation.add(session, T, channel, "U_LEAD", ["U_ANA", "U_BEN"])
            session.flush()
            rota = rotation.apply_schedule(session, T, channel, "U_LEAD",
                                           Schedule("0123456", "09:30", "Europe/Berlin", 10))
            rota.next_meeting_at = now + timedelta(minutes=5)
            rota.next_meeting_date = rota.next_meeting_at.date()
            rota.next_reminder_at = now - timedelta(seconds=1)
        session.commit()
    start = time.time() + 3
    clocks = [subprocess.Popen([sys.executable, "-c", CLOCK, database_url, str(start)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(2)]
    results = [clock.communicate(timeout=60) for clock in clocks]
    assert all(clock.returncode == 0 for clock in clocks), results
    claimed = [int(out.strip()) for out, _ in results]
    with db.session() as session:
        reminders = session.scalars(select(OutboxMessage).where(
            OutboxMessage.action == "rotation_reminder")).all()
        assert len(session.scalars(select(Turn)).all()) == len(channels)
    assert sum(claimed) == len(channels)
    assert sorted(r.channel_id for r in reminders) == channels  # one each, none twice


def test_a_reminder_slack_could_not_take_before_the_meeting_is_dropped(
        bot, db, fake_slack, people):
    bot.runtime.worker.stop()  # Slack unreachable: the reminder waits in the outbox
    rotation_due(db)
    assert send_rotation_reminders(bot.runtime) == 1
    with db.session() as session:
        turn = session.scalars(select(Turn)).one()
        turn.meeting_at = utcnow() - timedelta(minutes=1)  # ...until the meeting began
        session.commit()
    assert bot.runtime.worker.delivery.run_once() == 1  # Slack is back
    assert fake_slack.calls_to("chat.postMessage") == []
    with db.session() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        assert (row.action, row.status) == ("rotation_reminder", "sent")  # done with


def test_rotation_skip_passes_todays_turn_on(bot, db, fake_slack, people):
    rotation_due(db)
    send_rotation_reminders(bot.runtime)
    fake_slack.wait_for("chat.postMessage", 2)
    refused = bot.slack.command("rotation skip", user="U_CAM")  # not Cam's turn to pass
    assert refused.text.startswith(":warning:") and "<@U_ANA>'s turn" in refused.text
    answer = bot.slack.command("rotation skip", user="U_ANA")
    assert "Today's turn passes to <@U_BEN>" in answer.text
    assert "<@U_BEN> is up" in fake_slack.wait_for("chat.update")[0].body["text"]
    assert "<@U_BEN> is up for the meeting" in bot.slack.command("rotation next").text
