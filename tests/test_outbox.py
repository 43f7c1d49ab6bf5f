"""Nothing lost, nothing doubled: posts go through the durable outbox."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import select

from bot.db.models import Entry, OutboxMessage, utcnow
from bot.ids import OutboxAction
from bot.outbox import retry, store
from bot.outbox.delivery import Delivery
from bot.outbox.retry import Failure, Kind
from bot.services import outbox
from tests.kit.bot_server import BotServer, bot_settings
from tests.kit.outbox import claim_due


def outbox_rows(db) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_500_twice_then_429_ends_with_exactly_one_post(bot, fake_slack, db):
    fake_slack.fail("chat.postMessage", status=500, times=2)
    fake_slack.fail("chat.postMessage", status=429, retry_after=1)

    assert "Saved your win" in bot.slack.command("win resilient").text

    calls = fake_slack.wait_for("chat.postMessage", 4)
    bot.settle()
    assert [c.ok for c in calls] == [False, False, False, True]
    assert len(fake_slack.succeeded("chat.postMessage")) == 1
    [row] = [r for r in outbox_rows(db) if r.action == OutboxAction.POST_ENTRY]
    assert (row.status, row.attempts) == ("sent", 3)  # the rate limit used up none
    with db.session() as session:
        assert session.scalars(select(Entry.message_ts)).one() == row.result_ts


def test_429_is_retried_no_sooner_than_retry_after(bot, fake_slack, db):
    fake_slack.fail("chat.postMessage", status=429, retry_after=30)
    bot.slack.command("win patient")
    fake_slack.wait_for("chat.postMessage")
    bot.settle()
    [row] = outbox_rows(db)
    assert row.status == "pending"
    wait = row.next_attempt_at - datetime.now(UTC)
    assert timedelta(seconds=28) < wait <= timedelta(seconds=30)


def test_a_restart_between_storing_and_posting_posts_exactly_once(database_url, fake_slack, db):
    settings = bot_settings(database_url, fake_slack.url)
    down = BotServer(settings, start_worker=False)  # dies before it sends anything
    assert "Saved your lesson" in down.slack.command("lesson survive restarts").text
    down.stop()
    assert fake_slack.calls_to("chat.postMessage") == []

    for _ in range(2):  # come back, then come back once more
        up = BotServer(settings)
        fake_slack.wait_for("chat.postMessage")
        up.stop()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_connection_failure_is_retried(database_url, fake_slack, db):
    # Slack unreachable: nothing listens on this port.
    settings = bot_settings(database_url, "http://127.0.0.1:9/api/")
    server = BotServer(settings)
    server.slack.command("win offline")
    # Tried once before the stop (a stopping worker starts no send).
    fake_slack.wait_until(lambda: outbox_rows(db)[0].attempts >= 1, what="a first try")
    server.stop()
    [row] = outbox_rows(db)
    assert row.status == "pending" and row.attempts >= 1
    assert row.last_error.startswith("connection")

    back = BotServer(bot_settings(database_url, fake_slack.url))
    fake_slack.wait_for("chat.postMessage")
    back.stop()
    assert outbox_rows(db)[0].status == "sent"


def test_posting_too_many_messages_is_retried_not_given_up(bot, fake_slack, db):
    fake_slack.fail("chat.postMessage", error="rate_limited")  # a 200 with ok: false
    bot.slack.command("win after a pause")
    calls = fake_slack.wait_for("chat.postMessage", 2)
    bot.settle()
    assert [c.ok for c in calls] == [False, True]
    assert [r.status for r in outbox_rows(db)] == ["sent"]


def test_a_permanent_error_stops_retrying_and_tells_the_author(bot, fake_slack, db):
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    bot.slack.command("win in a channel I cannot see", channel="C_GONE")
    dm = fake_slack.wait_for("chat.postMessage", 2)[1]
    bot.settle()
    assert dm.body["channel"] == "U_ALICE"
    assert "It is saved" in dm.body["text"]
    assert [r.status for r in outbox_rows(db)] == ["failed", "sent"]
    with db.session() as session:
        assert session.scalars(select(Entry.text)).one() == "win in a channel I cannot see"[4:]


def test_not_in_channel_joins_then_posts(bot, fake_slack, db):
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    bot.slack.command("win new channel")
    fake_slack.wait_for("chat.postMessage", 2)
    assert fake_slack.calls_to("conversations.join")[0].body["channel"] == "C_TEAM"
    assert len(fake_slack.succeeded("chat.postMessage")) == 1


def test_two_workers_never_send_the_same_row(database_url, fake_slack, db):
    with db.session() as session:
        for n in range(60):
            entry = Entry(team_id="T0001", channel_id=f"C{n:03d}", author_id="U_ALICE",
                          kind="win", text=f"win {n}", visibility="team")
            session.add(entry)
            session.flush()
            outbox.enqueue(session, team_id="T0001", action=OutboxAction.POST_ENTRY,
                           channel_id=entry.channel_id, entry_id=entry.id)
        session.commit()
    from bot.runtime import SlackClients

    settings = bot_settings(database_url, fake_slack.url)
    clients = SlackClients(settings, db)
    workers = [Delivery(db, clients.for_team) for _ in range(2)]
    start = threading.Barrier(2)

    def drain(delivery: Delivery) -> None:
        start.wait()
        while delivery.run_once():
            pass

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = [c.body["text"] for c in fake_slack.calls_to("chat.postMessage")]
    assert len(texts) == 60
    assert len(set(texts)) == 60


def test_backoff_grows_and_is_capped():
    assert [retry.backoff(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry.backoff(30, 2.0) == retry.MAX_BACKOFF


def test_retry_after_wins_over_backoff_and_leases_expire(db):
    with freeze_time("2026-03-01 12:00:00"), db.session() as session:
        row = outbox.enqueue(session, team_id="T1", action=OutboxAction.POST_ENTRY, channel_id="C1")
        session.commit()
        [claimed] = claim_due(session)
        session.commit()  # the claimer commits its lease
        assert claim_due(session) == []  # leased to the first claimer
        store.mark_retry(claimed, Failure(Kind.WAIT, "ratelimited", unsure=False,
                                          retry_after=17), base=2.0, was_unsure=False)
        session.commit()
        assert claimed.next_attempt_at == datetime(2026, 3, 1, 12, 0, 17, tzinfo=UTC)
        assert claimed.id == row.id
    with freeze_time("2026-03-01 12:00:16"), db.session() as session:
        assert claim_due(session) == []
    with freeze_time("2026-03-01 12:00:17"), db.session() as session:
        [again] = claim_due(session)
        session.commit()
    # A claimer that died holds its lease for a minute; then the row is free again.
    with freeze_time("2026-03-01 12:01:16"), db.session() as session:
        assert claim_due(session) == []
    with freeze_time("2026-03-01 12:01:18"), db.session() as session:
        assert [r.id for r in claim_due(session)] == [again.id]


def test_faults_give_up_in_the_end_and_an_outage_never_does(db):
    with db.session() as session:
        row = outbox.enqueue(session, team_id="T1", action=OutboxAction.POST_ENTRY, channel_id="C1")
        row.attempts, row.faults = 10_000, 0  # a week and more of Slack being down
        store.mark_retry(row, Failure(Kind.OUTAGE, "internal_error", unsure=True), base=1.0,
                         was_unsure=False)
        assert (row.status, row.attempts) == ("pending", 10_001)
        assert row.next_attempt_at <= utcnow() + timedelta(seconds=retry.MAX_BACKOFF)
        row.faults = retry.MAX_FAULTS - 1
        store.mark_retry(row, Failure(Kind.FAULT, "KeyError: 'ts'", unsure=True), base=1.0,
                         was_unsure=False)
        assert row.status == "failed"


def test_a_long_rate_limit_never_makes_a_post_give_up(bot, fake_slack, db, monkeypatch):
    monkeypatch.setattr(retry, "MAX_FAULTS", 1)  # one fault would end it
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=2)

    bot.slack.command("win worth the wait")

    calls = fake_slack.wait_for("chat.postMessage", 3)
    bot.settle()
    assert [c.ok for c in calls] == [False, False, True]
    [row] = outbox_rows(db)
    assert (row.status, row.attempts) == ("sent", 1)


def test_a_rate_limit_is_waited_out_at_least_a_second(db):
    slack = _RateLimited()
    delivery = Delivery(db, lambda team: slack)
    with freeze_time("2026-03-01 12:00:00"), db.session() as session:
        row = outbox.enqueue(session, team_id="T1", action=OutboxAction.NOTIFY_USER,
                             channel_id="U1", user_id="U1", payload={"text": "hello"})
        session.commit()
        assert delivery.run_once() == 1
    with db.session() as session:
        row = session.get(OutboxMessage, row.id)
        assert (row.status, row.attempts) == ("pending", 0)  # Retry-After: 0 is not "now"
        assert row.next_attempt_at == datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC)


class _RateLimited:
    """A WebClient whose chat.postMessage answers 429 with `Retry-After: 0`."""

    def chat_postMessage(self, **_: object) -> None:  # noqa: N802 (Slack's method name)
        response = SlackResponse(client=None, http_verb="POST", api_url="chat.postMessage",
                                 req_args={}, data={"ok": False, "error": "ratelimited"},
                                 headers={"Retry-After": "0"}, status_code=429)
        raise SlackApiError("ratelimited", response)


def test_slack_failing_again_and_again_is_waited_out_not_given_up(bot, fake_slack, db,
                                                                  monkeypatch):
    monkeypatch.setattr(retry, "MAX_FAULTS", 1)  # were a 500 a fault, one would end it
    fake_slack.fail("chat.postMessage", status=500, times=3)

    bot.slack.command("win into a broken Slack")

    calls = fake_slack.wait_for("chat.postMessage", 4)
    bot.settle()
    assert [c.ok for c in calls] == [False, False, False, True]
    assert [c.body["channel"] for c in calls] == ["C_TEAM"] * 4  # nobody told of a failure
    assert [(r.status, r.attempts, r.faults) for r in outbox_rows(db)] == [("sent", 4, 0)]


def test_posts_to_one_channel_are_paced_not_dropped(bot, fake_slack, db):
    bot.runtime.worker.delivery.pacer.clock = lambda: 1000.0  # no refill, however slow we are
    for n in range(5):
        bot.slack.command(f"win burst {n}")
    fake_slack.wait_for("chat.postMessage", 3)
    bot.settle()
    rows = outbox_rows(db)
    sent = [r for r in rows if r.status == "sent"]
    waiting = [r for r in rows if r.status == "pending"]
    assert len(sent) == 3  # Slack's burst allowance, then one a second
    assert len(waiting) == 2
    assert all(r.attempts == 0 for r in waiting)  # waiting is not failing
    assert all(r.claimed_until is None for r in waiting)  # nor holding a lease
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


def test_a_paced_channel_gets_the_rest_once_it_has_free_slots(bot, fake_slack, db):
    now = [1000.0]
    bot.runtime.worker.delivery.pacer.clock = lambda: now[0]
    for n in range(5):  # the last two find the channel busy: they do not wake the sender
        bot.slack.command(f"win burst {n}")
    fake_slack.wait_for("chat.postMessage", 3)
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    now[0] += 2.0  # two slots free: the sender's own timer brings it back for them
    posts = fake_slack.wait_for("chat.postMessage", 5)
    assert [p.body["text"].endswith(f"burst {n}") for n, p in enumerate(posts)] == [True] * 5


def test_pacer_allows_a_burst_then_one_message_a_second():
    from bot.outbox.pacing import ChannelPacer

    now = [100.0]
    pacer = ChannelPacer(rate=1.0, burst=3, clock=lambda: now[0])
    assert [pacer.take("C1") for _ in range(5)] == [True, True, True, False, False]
    assert pacer.busy() == ["C1"] and pacer.next_free() == 1.0
    assert pacer.take("C2")  # other channels are not held up
    now[0] += 1
    assert [pacer.take("C1") for _ in range(2)] == [True, False]
    now[0] += 10  # quiet for a while: the burst is available again
    assert pacer.busy() == [] and pacer.next_free() is None
    assert [pacer.take("C1") for _ in range(3)] == [True, True, True]


def test_a_paced_backlog_goes_out_in_order_each_message_once(bot, fake_slack, db):
    from bot.outbox.pacing import ChannelPacer

    bot.runtime.worker.delivery.pacer = ChannelPacer(rate=20.0, burst=2)  # a quick Slack
    for n in range(6):
        bot.slack.command(f"win backlog {n}")
    posts = fake_slack.wait_for("chat.postMessage", 6)
    bot.settle()
    texts = [p.body["text"] for p in posts]
    assert [t.endswith(f"backlog {n}") for n, t in enumerate(texts)] == [True] * 6
    assert len(fake_slack.calls_to("chat.postMessage")) == 6
    assert {r.status for r in outbox_rows(db) if r.action == OutboxAction.POST_ENTRY} == {"sent"}


def test_a_backlog_in_one_channel_waits_unleased_and_goes_out_at_its_pace(
        bot, fake_slack, db, monkeypatch):
    from bot.outbox.pacing import ChannelPacer

    bot.runtime.worker.stop()  # this test drives the sender itself
    delivery = bot.runtime.worker.delivery
    now = [1000.0]
    delivery.pacer = ChannelPacer(rate=1.0, burst=3, clock=lambda: now[0])
    with db.session() as session:
        for n in range(30):
            outbox.enqueue(session, team_id="T0001", action=OutboxAction.NOTIFY_USER,
                           channel_id="C_BUSY", user_id="U_ALICE", payload={"text": f"#{n}"})
        session.commit()
    leased: list[int] = []
    lease = store.lease
    monkeypatch.setattr(store, "lease",
                        lambda *args, **kwargs: _record(leased, lease(*args, **kwargs)))
    assert delivery.run_once() == 3  # Slack's burst allowance
    assert delivery.run_once() == 0  # then nothing is leased while the channel waits
    assert 0.9 < delivery.seconds_until_due() <= 1.0  # the worker sleeps until its slot
    now[0] += 1.0
    assert delivery.run_once() == 1
    assert delivery.run_once() == 0
    assert len(leased) == 3 + 3  # a pass leases at most a burst, not the whole backlog
    assert [c.body["text"] for c in fake_slack.calls_to("chat.postMessage")] == \
        ["#0", "#1", "#2", "#3"]
    waiting = [r for r in outbox_rows(db) if r.status == "pending"]
    assert len(waiting) == 26 and all(r.claimed_until is None for r in waiting)


def _record(leased: list[int], claimed: list[OutboxMessage]) -> list[OutboxMessage]:
    leased.extend(message.id for message in claimed)
    return claimed


def test_a_claim_leases_no_more_than_its_limit(db):
    # On PostgreSQL a plain `IN (… LIMIT … SKIP LOCKED)` subquery could be run again per
    # updated row, leasing far past the limit while the table has no statistics yet.
    with db.session() as session:
        for n in range(15):
            outbox.enqueue(session, team_id="T1", action=OutboxAction.EPHEMERAL, channel_id=f"C{n}",
                           user_id="U1", payload={"text": str(n)})
        session.commit()
        assert len(claim_due(session, limit=4)) == 4
        session.commit()  # the claimer commits its lease
        assert len(claim_due(session, limit=4)) == 4
        session.commit()
    leased = [r for r in outbox_rows(db) if r.claimed_until is not None]
    assert len(leased) == 8
