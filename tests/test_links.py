"""Links keep their address: a link typed with a label arrives as `<https://…|label>` in
Slack's markup; what is stored and shown carries both, as plain text that links nowhere
it does not say, in posts, search results, exports and digests."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import select, update

from bot.clock import post_due_digests
from bot.db.models import Applause, Entry, utcnow
from tests.test_digest import due_now
from tests.test_export import exported

# The one live link allowed: to the entry's own message (built, or Slack's permalink).
MESSAGE_LINKS = ("https://slack.com/archives/", "https://test.slack.com/archives/")
WIKI = "https://wiki.example.com/runbook?step=2&lang=en"
TYPED = f"read <{WIKI.replace('&', '&amp;')}|the wiki> before paging #oncall"
STORED = f"read the wiki ({WIKI}) before paging #oncall"


def stored(db) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Entry.text).order_by(Entry.id)))


def live_links(payload: object) -> list[str]:
    """Slack markup in a message that would link somewhere: `<http…>` (escaped `&lt;` is
    text, not markup)."""
    text = json.dumps(payload)
    return [part.split(">")[0] for part in text.split("<")[1:] if part.startswith("http")]


def test_a_labelled_link_is_stored_and_posted_with_its_address(bot, fake_slack, db):
    bot.slack.command("win " + TYPED)
    assert stored(db) == [STORED]
    post = fake_slack.wait_for("chat.postMessage")[0]
    sections = [b["text"] for b in post.body["blocks"] if b["type"] == "section"]
    body = next(s for s in sections if "the wiki" in s["text"])
    assert body["text"] == STORED.replace("&", "&amp;") and body["verbatim"] is True
    assert live_links(post.body["blocks"]) == []  # shown, not linked: it forges nothing


def test_a_label_never_passes_for_another_address(bot, fake_slack, db):
    bot.slack.command("lesson log in at <https://evil.example/login|https://bank.example>")
    assert stored(db) == ["log in at https://bank.example (https://evil.example/login)"]
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert "https://evil.example/login" in post.blocks_text()  # where it really goes
    assert live_links(post.body) == []


def test_a_link_typed_as_its_own_address_is_stored_as_typed(bot, db):
    bot.slack.command("win see <http://docs.example/a/|docs.example/a> and "
                      "<mailto:ops@example.com|ops@example.com> and <https://x.example>")
    assert stored(db) == ["see docs.example/a and ops@example.com and https://x.example"]


def test_search_results_show_the_address(bot, fake_slack, db):
    bot.slack.command("win " + TYPED)
    answer = bot.slack.command("search wiki")
    assert f"the wiki ({WIKI.replace('&', '&amp;')})" in answer.text
    # Live: the entry's own message, and its docs labelled with their own address (a
    # label never passes for another address).
    assert all(link.startswith(MESSAGE_LINKS) or link.split("|", 1)[1] in link.split("|")[0]
               for link in live_links(answer.text))


def test_exports_keep_the_address(bot, fake_slack, db):
    bot.slack.command("win " + TYPED)
    bot.slack.command("export csv")
    [row] = list(csv.DictReader(io.StringIO(exported(fake_slack)["content"].decode())))
    assert row["text"] == STORED
    fake_slack.reset()
    bot.slack.command("export md")
    assert "the wiki (https://wiki.example.com/runbook?step=2&lang=en)" in \
        exported(fake_slack)["content"].decode().replace("\\", "")


def test_digests_keep_the_address(bot, fake_slack, db):
    bot.slack.command("lesson " + TYPED)
    bot.settle()
    with db.session() as session:  # shared with the organisation, and applauded
        session.execute(update(Entry).values(visibility="org"))
        entry = session.scalars(select(Entry)).one()
        session.add(Applause(team_id="T0001", channel_id="C_TEAM", message_ts=entry.message_ts,
                             reactor_id="U_BOB", emoji="tada", author_id="U_ALICE",
                             entry_id=entry.id, created_at=utcnow() - timedelta(hours=1)))
        session.commit()
    fake_slack.users["U_ALICE"] = {"id": "U_ALICE", "name": "alice", "is_admin": True}
    bot.slack.command("digest <#C_LEARN> weekly mon 09:00")  # an admin's to set
    due_now(db)
    assert post_due_digests(bot.runtime) == 1
    bot.settle()
    [digest] = [c for c in fake_slack.succeeded("chat.postMessage")
                if c.body["channel"] == "C_LEARN"]
    assert f"the wiki ({WIKI.replace('&', '&amp;')})" in digest.blocks_text()
    assert [link for link in live_links(digest.body["blocks"])
            if not link.startswith(MESSAGE_LINKS)] == []
