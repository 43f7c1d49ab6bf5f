"""How the team learns, drawn: a PNG chart of the last weeks (matplotlib, Agg), the same
figures in words (screen readers, notifications), and the safety signals in plain
sentences. Never a ranking, never a person."""

from __future__ import annotations

import io
from datetime import datetime

from bot.db.models import HealthPost
from bot.services.digest import WEEKDAYS
from bot.services.health import MIN_PEOPLE, RECENT, WEEKS, Health, Signal

# Okabe-Ito: told apart by people with any common colour blindness.
COLOURS = {"wins": "#E69F00", "opportunities": "#56B4E9", "lessons": "#009E73",
           "became": "#CC79A7", "people": "#0072B2"}


def title(health: Health) -> str:
    where = "the organisation" if health.channel_id is None else "this channel"
    return f"How {where} learns: the last {WEEKS} weeks"


def _label(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}"


def render_png(health: Health) -> bytes:
    """The chart: entries by kind per week (stacked), opportunities that became lessons,
    and how many people shared. matplotlib's object API with the Agg canvas: no pyplot
    state, safe in the outbox worker's thread. Imported here: only a picture needs it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weeks = health.weeks
    x = list(range(len(weeks)))
    wins = [w.wins for w in weeks]
    opportunities = [w.opportunities for w in weeks]
    lessons = [w.lessons for w in weeks]
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    # Fixed margins: a layout engine would draw the figure twice (half the time).
    figure.subplots_adjust(left=0.1, right=0.98, top=0.93, bottom=0.16, hspace=0.1)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1.4])
    top.bar(x, wins, color=COLOURS["wins"], label="Wins")
    top.bar(x, opportunities, bottom=wins, color=COLOURS["opportunities"],
            label="Opportunities")
    top.bar(x, lessons, bottom=[a + b for a, b in zip(wins, opportunities, strict=True)],
            color=COLOURS["lessons"], label="Lessons")
    top.plot(x, [w.became_lessons for w in weeks], color=COLOURS["became"], marker="o",
             linewidth=2, label="Opportunities that became lessons")
    top.set_ylabel("Entries")
    top.set_title(title(health), loc="left", fontsize=12)
    top.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
    top.set_ylim(0, max([w.entries for w in weeks] + [1]) * 1.35)
    bottom.bar(x, [w.people for w in weeks], color=COLOURS["people"])
    bottom.set_ylabel("People\n(by name)")
    bottom.set_xticks(x, [_label(w.start) for w in weeks], rotation=45, fontsize=8)
    bottom.set_xlabel("Week starting")
    for axes in (top, bottom):
        axes.spines[["top", "right"]].set_visible(False)
        axes.yaxis.get_major_locator().set_params(integer=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


_NAMES = {"learning": "Opportunities and lessons (against wins)",
          "anonymous": "Logged anonymously", "people": "People taking part (by name)"}
_ARROWS = {"up": ":arrow_upper_right: rising", "down": ":arrow_lower_right: falling",
           "steady": ":left_right_arrow: steady"}


def _sentence(signal: Signal) -> str | None:
    """A plain sentence for a signal that moved a lot."""
    if not signal.moved_a_lot:
        return None
    up = signal.trend == "up"
    if signal.name == "learning":
        return ("More opportunities and lessons than before: the team is talking about what "
                "did not go well. Keep it safe to do so." if up else
                "Fewer opportunities and lessons against wins than before. Mistakes may be "
                "going unsaid: worth asking whether it feels safe to name them.")
    if signal.name == "anonymous":
        return ("Anonymous sharing is rising fast. That is worth a conversation about how "
                "safe sharing under one's own name feels here." if up else
                "Fewer entries are anonymous than before: people seem more at ease sharing "
                "under their name.")
    return ("More people are sharing than a month before." if up else
            "Fewer people are sharing than a month before: worth checking whether some "
            "voices have gone quiet.")


def signal_lines(health: Health) -> list[str]:
    lines = []
    for signal in health.signals:
        name = _NAMES[signal.name]
        if not signal.shown:
            lines.append(f"• {name}: not shown — fewer than {MIN_PEOPLE} people shared by name "
                         f"in the last {RECENT} weeks.")
            continue
        if signal.name == "people":
            now = f"{int(signal.now or 0)}"
            before = "" if signal.before is None else f" (the {RECENT} weeks before: " \
                                                     f"{int(signal.before)})"
        else:
            now = _pct(signal.now)
            before = "" if signal.before is None else f" (before: {_pct(signal.before)})"
        trend = f" — {_ARROWS[signal.trend]}" if signal.trend else " — no trend yet"
        line = f"• {name}: {now}{before}{trend}"
        sentence = _sentence(signal)
        if sentence:
            line += f"\n    _{sentence}_"
        lines.append(line)
    return lines


def figures_text(health: Health) -> str:
    """The chart in words: every week's figures, then the signals."""
    total = sum(w.entries for w in health.weeks)
    became = sum(w.became_lessons for w in health.weeks)
    head = (f":bar_chart: *{title(health)}* — {total} entries, "
            f"{became} opportunities became lessons.")
    if health.teams_recent is not None:
        head += f" {health.teams_recent} channels shared in the last {RECENT} weeks."
    rows = [f"`{_label(w.start):>6}` :trophy: {w.wins} · :seedling: {w.opportunities} · "
            f":bulb: {w.lessons} · {w.people} people by name · "
            f"opportunities → lessons: {w.became_lessons}" for w in health.weeks]
    note = ("_Counts only what others can see here (never private entries or reflections); "
            "anonymous entries count in the entries, not in the people. Signals need at "
            f"least {MIN_PEOPLE} people behind them. No one is ranked._")
    return "\n".join([head, "*Week by week* (wins · opportunities · lessons):", *rows,
                      "*Safety signals* (the last four weeks against the weeks before):",
                      *signal_lines(health), note])


def alt_text(health: Health) -> str:
    """A short description of the picture for screen readers."""
    total = sum(w.entries for w in health.weeks)
    newest = health.weeks[-1]
    return (f"Bar chart: {title(health)}. {total} entries in all; the latest week had "
            f"{newest.wins} wins, {newest.opportunities} opportunities, {newest.lessons} "
            f"lessons and {newest.people} people sharing by name. The figures follow as text.")


def file_name(health: Health) -> str:
    return f"learning-health-{health.until:%Y-%m-%d}.png"


def sharing() -> str:
    return (":bar_chart: Sharing this channel's last 12 weeks here: entries by kind, how many "
            "people shared, and opportunities that became lessons. No one is ranked.")


def weekly_set(post: HealthPost) -> str:
    hours, minutes = divmod(post.minute_of_day, 60)
    return (f":bar_chart: Every {WEEKDAYS[post.weekday].capitalize()} at {hours:02d}:{minutes:02d} "
            f"({post.timezone}) I'll share this channel's learning picture here. "
            "`/debrief health off` stops it.")


def weekly_stopped(was_there: bool) -> str:
    return (":bar_chart: The weekly picture is stopped here." if was_there
            else ":bar_chart: This channel had no weekly picture to stop.")


def not_shared(channel_id: str, error: str, *, gave_up: bool) -> str:
    why = "after many tries" if gave_up else f"Slack said `{error}`"
    return (f":warning: I could not share the learning picture in <#{channel_id}> ({why}). "
            "If the channel is private, invite me with `/invite @Debrief` and ask again.")
