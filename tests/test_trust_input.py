"""Odd input gets a clear answer, never "not saved": digits that are not plain digits, ids
too big for the database, and tags as long as a 3,000-character entry allows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Entry


@pytest.mark.parametrize("typed", ["delete ²", "delete 99999999999999999999",
                                   "delete #٣", "close ²", "close 99999999999999999999",
                                   "rotation schedule mon 09:30 UTC lead ²"])
def test_odd_digits_in_ids_and_numbers_get_a_clear_answer(bot, typed):
    answer = bot.slack.command(typed)
    assert answer.status == 200
    assert answer.text.startswith(":warning:"), answer.text
    assert "not saved" not in answer.text and "went wrong" not in answer.text


@pytest.mark.parametrize("page", ["²", "99999999999999999999"])
def test_hope_history_with_an_odd_page_shows_the_first(bot, page):
    answer = bot.slack.command(f"history {page}", command="/hope")
    assert answer.status == 200 and "went wrong" not in answer.body.decode()


def test_a_button_carrying_odd_digits_is_refused_clearly(bot, fake_slack):
    for action in ("rotation_pass", "rotation_share", "hope_read", "card_add_win"):
        for value in ("²", "99999999999999999999"):
            answer = bot.slack.block_action({"action_id": action, "value": value})
            assert answer.status == 200, (action, value)


def test_long_tags_are_kept_whole_on_every_database(bot, db):
    tags = [f"#{word * 100}" for word in "abcdefghi"]  # 9 tags of 100 characters
    tags += [f"#tag{n:03d}-{'x' * 40}" for n in range(40)]  # 40 more x 47
    text = " ".join(tags)[:3000]
    answer = bot.slack.command(f"win {text}")
    assert "Saved your win" in answer.text, answer.text
    with db.session() as session:
        entry = session.scalars(select(Entry)).one()
    assert len(entry.tags) > 1000
    assert entry.tag_names[0] == "a" * 100  # whole, not cut at 79
    search = bot.slack.command(f"search #{'a' * 100}")
    assert "1 best match" in search.text
