"""Usage text for /debrief, with a "did you mean" for a near-miss."""

from __future__ import annotations

from collections.abc import Iterable

from bot.views.text import clip, safe


def usage(lines: Iterable[tuple[str, str]], unknown: str | None = None,
          suggestion: str | None = None) -> str:
    """The help answer; `unknown` is what the person typed, shown inert."""
    head = []
    if unknown is not None:
        head.append(f"I don't know `{safe(unknown)}`.")
        if suggestion:
            head.append(f"Did you mean `/debrief {safe(clip(suggestion, 200))}`?")
    body = "\n".join(f"• `{command}` — {summary}" for command, summary in lines)
    intro = " ".join(head)
    title = "*Debrief* — log what you learn as you work:\n"
    return (intro + "\n\n" if intro else "") + title + body
