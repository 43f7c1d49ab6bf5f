"""Opportunity → check back → lesson, as people see it: when I'll ask, the ask itself,
the answer, a card's opportunities and what they became, and the Home's open ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks import (
    Block as SlackBlock,
)

from bot.db.models import CheckBack, CheckBackPlan, CheckBackStatus, Entry
from bot.ids import LoopAction, LoopBlock
from bot.services.checkback import CHOICE_CARD, CHOICE_NEVER, DAY_CHOICES, NOT_YET_DAYS
from bot.services.opportunities import LoopLine, OpenOpportunity
from bot.views.entries import KIND_EMOJI
from bot.views.text import clip, safe

PREVIEW = 300
DAYS_LABEL = {7: "In a week", 14: "In two weeks", 30: "In a month"}


def when(moment: datetime) -> str:
    """A moment as Slack shows it in each reader's own time zone."""
    return (f"<!date^{int(moment.timestamp())}^{{date_long_pretty}} at {{time}}|"
            f"{moment:%Y-%m-%d %H:%M} UTC>")


def _quote(text: str, limit: int = PREVIEW) -> str:
    return "\n".join(f"> {line}" for line in safe(clip(text, limit)).splitlines()) or "> …"


def plan_sentence(check: CheckBack) -> str:
    if check.status == CheckBackStatus.LEARNED:
        return ":bulb: It became a lesson."
    if check.status == CheckBackStatus.DROPPED:
        return "You let it go: I won't ask about it."
    if check.plan == CheckBackPlan.CARD:
        return ":card_index: I'll ask you what came of it when its card closes."
    if check.plan == CheckBackPlan.NEVER or check.due_at is None:
        return "I won't ask about it. It stays on your Home tab until it becomes a lesson."
    return f":calendar: I'll ask you what came of it on {when(check.due_at)}."


def planned(check: CheckBack, entry: Entry) -> dict:
    """After an opportunity is logged: when I'll check back, and the other choices."""
    choices: list[tuple[str, str]] = [(str(days), DAYS_LABEL[days]) for days in DAY_CHOICES]
    if entry.card_id is not None:
        choices.append((CHOICE_CARD, "When its card closes"))
    choices.append((CHOICE_NEVER, "Don't ask"))
    buttons = [ButtonElement(action_id=f"{LoopAction.CHECKBACK_WHEN}_{choice}",
                             value=f"{check.id}:{choice}", text=label)
               for choice, label in choices]
    text = f"{KIND_EMOJI[entry.kind]} {plan_sentence(check)} Another time?"
    blocks: list[SlackBlock] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(elements=buttons),
    ]
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def chosen(check: CheckBack) -> str:
    return f"Got it. {plan_sentence(check)}"


def ask_dm(check: CheckBack, entry: Entry) -> dict:
    """The check-back itself: what they noted, and what came of it?"""
    again = " (again)" if check.times_asked > 1 else ""
    text = (f":seedling: You noted an opportunity in <#{entry.channel_id}> on "
            f"<!date^{int(entry.created_at.timestamp())}^{{date_short}}|"
            f"{entry.created_at:%Y-%m-%d}>. What came of it{again}?")
    blocks: list[SlackBlock] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        SectionBlock(text=MarkdownTextObject(text=_quote(entry.text, 2500), verbatim=True)),
        ActionsBlock(elements=[
            ButtonElement(action_id=LoopAction.CHECKBACK_LEARNED, value=str(check.id),
                          text="Log what we learned", style="primary"),
            ButtonElement(action_id=LoopAction.CHECKBACK_NOT_YET, value=str(check.id),
                          text="Not yet"),
            ButtonElement(action_id=LoopAction.CHECKBACK_DROP, value=str(check.id),
                          text="Drop it"),
        ]),
        ContextBlock(elements=[MarkdownTextObject(text=(
            f"*Not yet* asks again in {NOT_YET_DAYS} days. The lesson goes in the "
            "opportunity's thread."))]),
    ]
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def answered_dm(check: CheckBack, entry: Entry) -> dict:
    """The check-back DM once answered: its buttons give way to the answer."""
    if check.status == CheckBackStatus.LEARNED:
        answer = ":bulb: You logged what came of it. Thank you for closing the loop."
    elif check.status == CheckBackStatus.DROPPED:
        answer = "Dropped: I won't ask about it again."
    else:
        answer = plan_sentence(check)
    blocks: list[SlackBlock] = [
        SectionBlock(text=MarkdownTextObject(text=_quote(entry.text), verbatim=True)),
        ContextBlock(elements=[MarkdownTextObject(text=answer)]),
    ]
    return {"text": answer, "blocks": [b.to_dict() for b in blocks]}


def card_loop_blocks(lines: Sequence[LoopLine], limit: int = 8) -> list[SlackBlock]:
    """A card's debrief: its opportunities, with the lessons they became and those open."""
    if not lines:
        return []
    became = [line for line in lines if line.status == CheckBackStatus.LEARNED]
    still = [line for line in lines if line.status in (CheckBackStatus.OPEN,
                                                       CheckBackStatus.ASKED)]
    head = (f"*:seedling: → :bulb: From opportunity to lesson* — {len(became)} of "
            f"{len(lines)} became lessons, {len(still)} still open")
    rows = []
    for line in [*became, *still][:limit]:
        who = "anonymous" if line.author_id is None else f"<@{line.author_id}>"
        what = safe(clip(" ".join(line.text.split()), 200))
        if line.status == CheckBackStatus.LEARNED:
            lesson = f"“{safe(clip(' '.join(line.lesson_text.split()), 200))}”" \
                if line.lesson_text else "followed up"
            rows.append(f"• {what} — {who}\n    → :bulb: {lesson}")
        else:
            rows.append(f"• {what} — {who}\n    → _still open_")
    more = len(became) + len(still) - len(rows)
    if more > 0:
        rows.append(f"_…and {more} more_")
    text = head + "\n" + "\n".join(rows)
    # Verbatim: Slack never turns a name, channel or address people wrote into a link.
    return [SectionBlock(text=MarkdownTextObject(text=clip(text, 3000), verbatim=True))]


def home_blocks(lines: Sequence[OpenOpportunity], total: int) -> list[SlackBlock]:
    """The Home tab's "Your open opportunities"."""
    blocks: list[SlackBlock] = [HeaderBlock(text="Your open opportunities")]
    if not lines:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="None open. An opportunity you log is followed until it becomes a lesson.")]))
        return blocks
    for line in lines:
        if line.plan == CheckBackPlan.CARD:
            next_ask = "asked when its card closes"
        elif line.due_at is not None and line.plan == CheckBackPlan.AFTER:
            next_ask = f"asked {when(line.due_at)}"
        else:
            next_ask = "waiting for your answer" if line.plan == CheckBackPlan.AFTER \
                else "not asked"
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=f":seedling: <#{line.channel_id}> · "
                 f"{line.created_at:%Y-%m-%d} · {next_ask}\n{safe(clip(line.text, 200))}",
            verbatim=True)))
    if total > len(lines):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"{total} open in all; the newest are shown.")]))
    return blocks


NEVER = "0"


def settings_block(days: int) -> InputBlock:
    """The settings modal's choice of when opportunities are asked about by default."""
    options = [Option(value=str(d), text=DAYS_LABEL[d]) for d in DAY_CHOICES]
    options.append(Option(value=NEVER, text="Don't ask (people can still choose a day)"))
    initial = next((o for o in options if o.value == str(days)), options[1])
    return InputBlock(
        block_id=LoopBlock.CHECK_BACK_DAYS, label="Check back on opportunities",
        hint="When Debrief asks an opportunity's author what came of it, unless they choose.",
        optional=True,
        element=StaticSelectElement(action_id=LoopAction.CHECK_BACK_DAYS, options=options,
                                    initial_option=initial))


def with_loop(debrief: dict, lines: Sequence[LoopLine]) -> dict:
    """A card's debrief (views.cards.card_debrief) with its opportunities and the lessons
    they became, above its closing note."""
    extra = [block.to_dict() for block in card_loop_blocks(lines)]
    if not extra:
        return debrief
    blocks = list(debrief.get("blocks") or [])
    at = max(len(blocks) - 1, 0)
    return {**debrief, "blocks": blocks[:at] + extra + blocks[at:]}
