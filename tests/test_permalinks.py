"""Links to an entry's message are Slack's own (chat.getPermalink, kept when the message is
posted): a reply in a card's thread opens in its thread. Entries posted before keep the
link built from channel and ts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Entry
from bot.services import cards
from tests.kit.fake_slack import TEAM_ID
from tests.test_cards import add_from_card, open_card
from tests.test_home import open_home, text_of


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch):
    monkeypatch.setattr(cards, "REFRESH_DELAY", timedelta(seconds=0.2))


def entries(db) -> list[Entry]:
    with db.session() as session:
        return list(session.scalars(select(Entry).order_by(Entry.id)))


def test_an_entry_in_a_cards_thread_links_into_the_thread(bot, fake_slack, db):
    fake_slack.memberships["U_ALICE"] = ["C_TEAM"]
    card, _ = open_card(bot, fake_slack, db)
    add_from_card(bot, fake_slack, card, "lesson", "feature flags save launches")
    fake_slack.wait_until(lambda: entries(db) and entries(db)[0].message_permalink,
                          what="the permalink")
    [entry] = entries(db)
    [asked] = [c for c in fake_slack.calls_to("chat.getPermalink")
               if c.body["message_ts"] == entry.message_ts]
    assert asked.body["channel"] == "C_TEAM"
    reply = entry.message_ts.replace(".", "")
    assert entry.message_permalink == (f"https://test.slack.com/archives/C_TEAM/p{reply}"
                                       f"?thread_ts={card.message_ts}&cid=C_TEAM")

    found = bot.slack.command("search feature flags").text
    assert f"<{entry.message_permalink}|open>" in found
    assert f"<{entry.message_permalink}|open>" in text_of(open_home(bot, fake_slack))


def test_when_slack_will_not_give_a_link_the_post_stands_and_the_link_is_built(
        bot, fake_slack, db):
    fake_slack.fail("chat.getPermalink", status=500, times=100)
    bot.slack.command("win shipped the importer")
    fake_slack.wait_for("chat.getPermalink")
    bot.settle()
    [entry] = entries(db)
    assert entry.message_ts and entry.message_permalink is None
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # never posted twice for it
    built = f"https://slack.com/archives/C_TEAM/p{entry.message_ts.replace('.', '')}"
    assert f"<{built}|open>" in bot.slack.command("search importer").text


def test_entries_posted_before_keep_the_link_built_from_channel_and_ts(bot, fake_slack, db):
    fake_slack.memberships["U_ALICE"] = ["C_TEAM"]
    with db.session() as session:  # as 0016 found it: posted, without Slack's link
        session.add(Entry(team_id=TEAM_ID, channel_id="C_TEAM", author_id="U_BOB",
                          kind="lesson", text="old news about caching", visibility="team",
                          message_channel_id="C_TEAM", message_ts="1690000000.000200"))
        session.commit()
    built = "https://slack.com/archives/C_TEAM/p1690000000000200"
    assert f"<{built}|open>" in bot.slack.command("search caching").text
    assert f"<{built}|open>" in text_of(open_home(bot, fake_slack))
    assert fake_slack.calls_to("chat.getPermalink") == []
