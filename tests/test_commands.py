"""Help, "did you mean", and delete."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Entry


def test_unknown_subcommand_gets_help_with_did_you_mean(bot):
    answer = bot.slack.command("lesosn always pin versions")
    assert answer.status == 200
    assert "I don't know `lesosn`" in answer.text
    assert "Did you mean `/debrief lesson always pin versions`?" in answer.text
    assert "/debrief win|opportunity|lesson TEXT" in answer.text


def test_unrelated_word_gets_help_without_a_guess(bot):
    answer = bot.slack.command("xyzzy")
    assert "I don't know `xyzzy`" in answer.text
    assert "Did you mean" not in answer.text


def test_help_lists_what_works(bot):
    answer = bot.slack.command("help")
    for usage in ("/debrief win|opportunity|lesson TEXT", "/debrief delete ID", "/debrief help"):
        assert usage in answer.text


def test_unknown_input_is_shown_inert(bot):
    answer = bot.slack.command("&lt;!channel&gt;")  # typed literally: <!channel>
    assert "<!channel>" not in answer.text
    assert "&lt;!channel&gt;" in answer.text


def test_delete_own_entry_removes_it_and_its_message(bot, fake_slack, db):
    bot.slack.command("win to be deleted")
    posted = fake_slack.wait_for("chat.postMessage")[0]
    bot.settle()
    with db.session() as session:
        ts = session.scalars(select(Entry.message_ts)).one()

    answer = bot.slack.command("delete 1")

    assert "Deleted entry 1" in answer.text
    deletion = fake_slack.wait_for("chat.delete")[0]
    assert (deletion.body["channel"], deletion.body["ts"]) == (posted.body["channel"], ts)
    with db.session() as session:
        assert session.scalars(select(Entry)).all() == []


def test_nobody_can_delete_someone_elses_entry(bot, fake_slack, db):
    bot.slack.command("win mine", user="U_ALICE")
    answer = bot.slack.command("delete 1", user="U_MALLORY")
    assert "You have no entry with ID 1" in answer.text
    with db.session() as session:
        assert len(session.scalars(select(Entry)).all()) == 1
    assert fake_slack.calls_to("chat.delete") == []


def test_delete_needs_an_id(bot):
    assert "Give its ID" in bot.slack.command("delete last").text


def test_deleting_before_the_post_went_out_posts_nothing(bot, fake_slack, db):
    bot.runtime.worker.stop()  # Slack is slow today: nothing has been sent yet
    bot.slack.command("win oops")
    bot.slack.command("delete 1")
    bot.runtime.worker.start()
    bot.settle()
    assert fake_slack.calls_to("chat.postMessage") == []
