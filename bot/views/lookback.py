"""A look back, as the person who asked sees it: related lessons, people who learned
something close (with a button that opens a DM to them), the channels where it came up,
and the docs the entries point to."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.blocks import (
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Action
from bot.services.lookback import LookBack, Person
from bot.views.search import hit_line
from bot.views.text import clip, safe, web_link

SECTION_LIMIT = 3000
RELATED = ":books: *Have we learned this before?* Earlier entries that look related:"


def dm_url(team_id: str, user_id: str) -> str:
    """Slack's deep link that opens a direct message with someone."""
    return f"slack://user?team={team_id}&id={user_id}"


def _where(channels: list[str]) -> str:
    return ", ".join(f"<#{c}>" for c in channels)


def person_line(person: Person) -> str:
    return f":bust_in_silhouette: <@{person.user_id}> learned something close in " \
           f"{_where(person.channels)}"


def _lines(found: LookBack, viewer_id: str, heading: str) -> list[str]:
    lines = [heading] if found.lessons else []
    lines += [hit_line(entry, viewer_id) for entry in found.lessons]
    if found.people:
        lines.append("*People to ask:*")
        lines += [person_line(p) for p in found.people]
    if found.channels:
        lines.append(f":busts_in_silhouette: It came up in {_where(found.channels)} too.")
    if found.docs:
        lines.append(":page_facing_up: *Docs:* " + " · ".join(web_link(d.url) for d in found.docs))
    return lines


def lookback_text(found: LookBack, viewer_id: str, heading: str = RELATED) -> str:
    """The look back as plain mrkdwn (the message's text, for notifications)."""
    return "\n".join(_lines(found, viewer_id, heading))


def lookback_blocks(found: LookBack, viewer_id: str, team_id: str,
                    heading: str = RELATED) -> list[SlackBlock]:
    """The look back as blocks: each person with a button that opens a DM to them."""
    blocks: list[SlackBlock] = []
    if found.lessons:
        text = "\n".join([heading, *(hit_line(e, viewer_id) for e in found.lessons)])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT),
                                                           verbatim=True)))
    if found.people:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="*People who learned something close:* ask them before you start")]))
    for person in found.people:
        blocks.append(SectionBlock(
            text=MarkdownTextObject(text=person_line(person)),
            accessory=ButtonElement(text="Message", action_id=Action.LOOKBACK_DM,
                                    value=person.user_id,
                                    url=dm_url(team_id, person.user_id))))
    rest = _lines(LookBack(channels=found.channels, docs=found.docs), viewer_id, heading)
    if rest:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=clip("\n".join(rest), SECTION_LIMIT), verbatim=True)))
    return blocks


def ask_heading(text: str) -> str:
    return (f":mag: *Before you start on* “{safe(clip(' '.join(text.split()), 120))}”: "
            "what was learned that looks close")


def ask_answer(found: LookBack, text: str, viewer_id: str, team_id: str) -> dict:
    """The answer to `/debrief ask TEXT`, for the caller alone."""
    heading = ask_heading(text)
    if found.empty:
        nothing = (f"{heading}\nNothing yet among the entries you can see. When you have "
                   "learned something, `/debrief lesson …` helps the next person.")
        return {"text": nothing,
                "blocks": [SectionBlock(text=MarkdownTextObject(text=nothing, verbatim=True))
                           .to_dict()]}
    blocks = lookback_blocks(found, viewer_id, team_id, heading)
    if not found.lessons:
        blocks.insert(0, SectionBlock(text=MarkdownTextObject(text=heading, verbatim=True)))
    return {"text": lookback_text(found, viewer_id, heading),
            "blocks": [b.to_dict() for b in blocks]}


LOOKING = ":mag: Looking back… the answer comes here in a moment, for your eyes only."
FAILED = (":warning: I could not look back just now. Nothing was stored; try "
          "`/debrief ask` again in a minute.")
