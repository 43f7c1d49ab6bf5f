"""The card views alone: Slack's block limits hold however much was learned."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db.models import Card, Kind
from bot.services.cards import DebriefItem, Tally
from bot.views.cards import card_debrief, card_message, tally_line


def card(**kw) -> Card:
    return Card(id=7, team_id="T1", channel_id="C1", title="Ship it", opened_by="U1",
                status=kw.pop("status", "open"), closed_by=kw.pop("closed_by", None), **kw)


def test_tallies_read_naturally():
    assert tally_line(Tally(wins=1, opportunities=2, lessons=0, applause=1)) == (
        ":trophy: 1 win · :seedling: 2 opportunities · :bulb: 0 lessons · :clap: 1 applause")


def test_a_closed_card_has_no_buttons():
    message = card_message(card(status="closed", closed_by="U2"), Tally())
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    assert "Closed by <@U2>" in str(message["blocks"])


def test_a_huge_debrief_stays_within_slacks_limits():
    when = datetime(2026, 1, 1, tzinfo=UTC)
    items = [DebriefItem(entry_id=n, kind=list(Kind)[n % 3], text="<&>" * 400,
                         author_id=f"U{n}", applause=0, created_at=when) for n in range(300)]
    message = card_debrief(card(status="closed", closed_by="U2"), items, 0)
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    shown = sum(b["text"]["text"].count("• ") for b in blocks if b["type"] == "section")
    note = blocks[-1]["elements"][0]["text"]
    assert f"{300 - shown} more not shown" in note
    assert "<&>" not in str(blocks)  # escaped


def test_help_lists_the_card_and_export_commands(bot):
    answer = bot.slack.command("help")
    for usage in ("/debrief card TITLE", "/debrief close CARD", "/debrief export [csv|md]"):
        assert usage in answer.text


def test_the_debrief_thanks_its_contributors_and_fits_slacks_limits():
    from bot.views.collaborators import contributors_line

    when = datetime(2026, 11, 1, tzinfo=UTC)
    items = [DebriefItem(entry_id=n, kind=Kind.WIN, text="x", author_id=f"U{n:09d}",
                         applause=0, created_at=when) for n in range(300)]
    items.append(DebriefItem(entry_id=999, kind=Kind.LESSON, text="y", author_id=None,
                             applause=0, created_at=when))
    line = contributors_line(items)
    assert line is not None and len(line) < 3000
    assert line.endswith("200 more and someone anonymously")
    message = card_debrief(card(status="closed", closed_by="U2"), items, 0, thanks=line)
    assert len(message["blocks"]) <= 50
    assert contributors_line([]) is None
