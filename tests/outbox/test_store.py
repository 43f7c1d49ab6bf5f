"""The outbox's store and retry rules (PRODUCT.md §7): what a person wrote is queued
with it; a send is retried, never lost, never doubled; it waits out an outage; one
refused post holds back no other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import select

from bot.db.models import Kind, OutboxMessage
from bot.ids import OutboxAction
from bot.outbox import retry, store
from bot.services import cards, outbox
from tests.kit.outbox import claim_due
from tests.services.kit import CH, WS, log, unit

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
RETRY_BASE = 2.0  # the bot's default (bot/config.py: outbox_retry_base)


def logged_post(db) -> int:
    with freeze_time(NOW):
        entry = log(db, "U_ANA", "Shipped", kind=Kind.WIN)
    with unit(db) as session:
        return session.scalars(select(OutboxMessage.id)
                               .where(OutboxMessage.entry_id == entry.id)).one()


def claim(db, now: datetime) -> list[int]:
    with db.session() as session:
        claimed = [row.id for row in claim_due(session, now)]
        session.commit()  # the lease, as the delivery core commits it
        return claimed


def fail_until(db, row_id: int, until: datetime, *, counted: bool) -> OutboxMessage:
    """Slack fails every try of the row (5xx, or a 429 when not `counted`) until then."""
    with unit(db) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        now = NOW
        while now < until and row.status == "pending":
            failure = retry.Failure(retry.Kind.OUTAGE, "service_unavailable", unsure=False) \
                if counted \
                else retry.Failure(retry.Kind.WAIT, "ratelimited", unsure=False, retry_after=60.0)
            store.mark_retry(row, failure, base=RETRY_BASE, was_unsure=False, now=now)
            now = max(row.next_attempt_at, now + timedelta(seconds=1))
        return row


def test_a_send_that_fails_is_retried_later_not_lost(db):
    row_id = logged_post(db)
    back = NOW + timedelta(minutes=10)
    row = fail_until(db, row_id, back, counted=True)
    assert row.status == "pending" and row.next_attempt_at > NOW
    assert claim(db, row.next_attempt_at - timedelta(seconds=1)) == []  # not before its time
    assert claim(db, row.next_attempt_at) == [row_id]


def test_a_post_waits_through_a_day_long_slack_outage_and_goes_out_after(db):
    row_id = logged_post(db)
    back = NOW + timedelta(days=1, hours=1)
    row = fail_until(db, row_id, back, counted=True)
    assert row.status == "pending"
    assert claim(db, back + timedelta(minutes=10)) == [row_id]


def test_a_long_rate_limit_never_makes_a_post_give_up(db):
    row_id = logged_post(db)
    back = NOW + timedelta(days=2)
    row = fail_until(db, row_id, back, counted=False)
    assert (row.status, row.attempts) == ("pending", 0)
    assert claim(db, back + timedelta(minutes=2)) == [row_id]


def test_a_row_claimed_by_one_sender_is_not_sent_by_another(db):
    row_id = logged_post(db)
    first, second = claim(db, NOW), claim(db, NOW)
    assert (first, second) == ([row_id], [])


def test_a_sent_row_is_never_sent_again(db):
    row_id = logged_post(db)
    with unit(db) as session:
        [row] = claim_due(session, NOW)
        assert row.id == row_id
        store.mark_sent(row, "1700000000.000100")
        session.commit()
    assert claim(db, NOW + timedelta(days=1)) == []


def test_a_post_refused_for_good_holds_back_no_other(db):
    refused = logged_post(db)
    with unit(db) as session:
        store.mark_failed(session.get(OutboxMessage, refused), "channel_not_found")
    other = logged_post(db)
    assert claim(db, NOW) == [other]


def test_entries_stop_waiting_for_a_card_whose_post_was_refused_for_good(db):
    with unit(db) as session:
        card = cards.open_card(session, team_id=WS, channel_id=CH, user_id="U_ANA",
                               title="Checkout")
    with unit(db) as session:
        assert outbox.card_on_its_way(session, WS, card.id)  # its entries wait for it
        post = session.scalars(select(OutboxMessage).where(
            OutboxMessage.action == OutboxAction.POST_CARD,
            OutboxMessage.card_id == card.id)).one()
        store.mark_failed(post, "not_in_channel")
    with unit(db) as session:
        assert not outbox.card_on_its_way(session, WS, card.id)
