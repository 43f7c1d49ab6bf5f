"""Nothing stalls, nothing is lost, nothing is doubled: Slack outages of any length, replies
lost after Slack stored the post, and passes that outlast their lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun import freeze_time
from sqlalchemy import select

from bot.db.models import Entry, OutboxMessage, utcnow
from bot.ids import OutboxAction
from bot.outbox import store
from bot.outbox.delivery import Delivery
from tests.test_forget_me import ask


def entries(db) -> list[Entry]:
    with db.session() as session:
        return list(session.scalars(select(Entry).order_by(Entry.id)))


def rows(db, action: OutboxAction = OutboxAction.POST_ENTRY) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.action == action)
                                    .order_by(OutboxMessage.id)))


def texts(fake_slack, channel: str | None = None) -> list[str]:
    """What Slack shows: the text of every message it holds."""
    return [m["text"] for m in fake_slack.posts(channel)]


def drive(delivery: Delivery, clock: Any, until: datetime) -> int:
    """Run the sender's passes as its worker would, letting frozen time jump to each next
    due moment, until `until`; how many passes it took."""
    passes = 0
    while utcnow() < until:
        delivery.run_once()
        passes += 1
        clock.tick(timedelta(seconds=max(delivery.seconds_until_due() or 1.0, 0.01)))
    return passes


def test_a_post_waits_through_a_day_of_slack_failing_and_goes_out_once(bot, fake_slack, db):
    bot.runtime.worker.stop()  # the test runs the sender's passes itself, in frozen time
    delivery = bot.runtime.worker.delivery
    fake_slack.fail("chat.postMessage", status=503, times=1_000_000)  # Slack is down
    with freeze_time(datetime.now(UTC)) as clock:
        delivery.pacer.clock = lambda: utcnow().timestamp()
        answer = bot.slack.command("win shipped while Slack was down")
        assert "Saved your win" in answer.text
        passes = drive(delivery, clock, until=utcnow() + timedelta(days=1, hours=1))
        [row] = rows(db)
        assert (row.status, row.faults) == ("pending", 0)
        assert row.attempts > 250 and passes >= row.attempts  # tried all day, never given up
        assert row.next_attempt_at - utcnow() <= timedelta(minutes=5)  # capped backoff
        assert fake_slack.posts() == []

        fake_slack.heal()  # Slack is back
        drive(delivery, clock, until=utcnow() + timedelta(minutes=10))
    assert texts(fake_slack) == ["Win from <@U_ALICE>: shipped while Slack was down"]
    [row] = rows(db)
    assert row.status == "sent" and entries(db)[0].message_ts == row.result_ts
    # Nobody was told it failed: it did not.
    assert [c.body["channel"] for c in fake_slack.calls_to("chat.postMessage")] == \
        ["C_TEAM"] * len(fake_slack.calls_to("chat.postMessage"))


def test_a_refusal_for_good_ends_the_row_and_tells_the_author(bot, fake_slack, db):
    fake_slack.fail("chat.postMessage", error="is_archived")
    bot.slack.command("win in an archived channel")
    fake_slack.wait_for("chat.postMessage", 2)
    bot.settle()
    told = fake_slack.succeeded("chat.postMessage")[0]
    assert told.body["channel"] == "U_ALICE" and "It is saved" in told.body["text"]
    assert [r.status for r in rows(db)] == ["failed"]


def test_a_reply_lost_after_slack_stored_the_post_is_not_a_second_post(bot, fake_slack, db):
    fake_slack.lose_reply("chat.postMessage")
    bot.slack.command("win posted once, whatever the network")
    fake_slack.wait_for("conversations.history")
    bot.settle()

    [message] = fake_slack.posts("C_TEAM")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert message["metadata"]["event_type"] == "debrief_outbox"
    [entry] = entries(db)
    assert entry.message_ts == message["ts"]  # the one message Slack shows is the one kept
    assert rows(db)[0].status == "sent"

    assert "Deleted entry 1" in bot.slack.command("delete 1").text
    fake_slack.wait_for("chat.delete")
    bot.settle()
    assert fake_slack.posts() == []  # deleting the entry took down all there was


def test_forget_me_takes_down_a_post_whose_reply_was_lost(bot, fake_slack, db):
    fake_slack.lose_reply("chat.postMessage")
    bot.slack.command("lesson mine to forget")
    fake_slack.wait_for("conversations.history")
    bot.settle()
    assert len(fake_slack.posts()) == 1

    bot.slack.view_submission(ask(bot, fake_slack), {})
    fake_slack.wait_for("chat.delete")
    bot.settle()
    assert fake_slack.posts() == [] and entries(db) == []


def test_a_lost_reply_in_a_cards_thread_is_found_there(bot, fake_slack, db, monkeypatch):
    from bot.services import cards
    from tests.test_cards import open_card

    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.2))
    card, _ = open_card(bot, fake_slack, db)
    fake_slack.lose_reply("chat.postMessage")
    answer = bot.slack.command(f"close {card.id}")  # its debrief goes in the thread
    assert "Closed card" in answer.text
    fake_slack.wait_for("conversations.replies")
    bot.settle()
    debriefs = [m for m in fake_slack.posts("C_TEAM") if m.get("thread_ts") == card.message_ts]
    assert len(debriefs) == 1
    assert rows(db, OutboxAction.POST_CARD_DEBRIEF)[0].result_ts == debriefs[0]["ts"]


def test_a_sender_that_stopped_before_recording_its_post_is_not_doubled(
        bot, fake_slack, db, monkeypatch):
    bot.runtime.worker.stop()
    bot.slack.command("win sent by a sender that then stopped")
    delivery = bot.runtime.worker.delivery
    record = store.mark_sent
    calls = []

    def lost_with_the_process(*args: Any) -> None:
        calls.append(args)
        if len(calls) == 1:
            raise ConnectionError("the process stopped here")
        record(*args)

    monkeypatch.setattr(store, "mark_sent", lost_with_the_process)
    with freeze_time(datetime.now(UTC) + timedelta(seconds=1)) as clock:
        delivery.run_once()  # posted, and nothing recorded: the lease is all that is left
        assert len(fake_slack.posts()) == 1 and rows(db)[0].status == "pending"
        delivery.run_once()
        assert len(fake_slack.calls_to("chat.postMessage")) == 1  # its lease holds it
        clock.tick(store.LEASE + timedelta(seconds=1))
        Delivery(bot.runtime.db, bot.runtime.clients.for_team).run_once()  # another process
    assert len(fake_slack.posts()) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert entries(db)[0].message_ts == fake_slack.posts()[0]["ts"]


class Stalling:
    """Slack as a slow sender sees it: each post takes 50 seconds (less than a lease),
    and while its second one hangs, another process runs a pass of its own."""

    retry_handlers: list[Any] = []  # none of slack_sdk's own

    def __init__(self, client: Any, clock: Any, meanwhile: Any):
        self.client, self.clock, self.meanwhile, self.posts = client, clock, meanwhile, 0

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.__dict__["client"], name)

    def chat_postMessage(self, **body: Any) -> Any:  # noqa: N802 (Slack's method name)
        self.posts += 1
        self.clock.tick(timedelta(seconds=50))
        if self.posts == 2:
            self.meanwhile()
        return self.client.chat_postMessage(**body)


def test_a_pass_that_outlasts_its_lease_never_has_its_rows_sent_twice(bot, fake_slack, db):
    bot.runtime.worker.stop()
    for n in range(3):  # in three channels: no pacing holds any of them back
        bot.slack.command(f"win number {n}", channel=f"C_{n}")
    clients = bot.runtime.clients.for_team
    other = Delivery(bot.runtime.db, clients)
    with freeze_time(datetime.now(UTC) + timedelta(seconds=1)) as clock:
        stalling = Stalling(clients("T0001"), clock, other.run_once)
        slow = Delivery(bot.runtime.db, lambda team: stalling)
        assert slow.run_once() == 3  # claimed all three; the last one it leaves
    assert sorted(texts(fake_slack)) == [f"Win from <@U_ALICE>: number {n}" for n in range(3)]
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    assert [r.status for r in rows(db)] == ["sent"] * 3
