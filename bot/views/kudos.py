"""The answer to `/debrief kudos`."""

from __future__ import annotations

from bot.services.kudos import Kudos

PERIOD_LABEL = {"week": "the last 7 days", "month": "the last 30 days", "all": "all time"}


def kudos_text(kudos: Kudos, channel_id: str) -> str:
    label = PERIOD_LABEL[kudos.period]
    lines = [f":clap: *Kudos in <#{channel_id}>, {label}*"]
    emoji = " ".join(f":{name}: {count}" for name, count in kudos.received_by_emoji)
    lines.append(f"You received *{kudos.received}* applause" + (f" ({emoji})" if emoji else "")
                 + f" and gave *{kudos.given}*.")
    people = "person" if kudos.sharers == 1 else "people"
    shared = f"*{kudos.sharers}* {people} shared learnings"
    if kudos.anonymous_entries:
        plural = "y" if kudos.anonymous_entries == 1 else "ies"
        shared += f", plus *{kudos.anonymous_entries}* anonymous entr{plural}"
    applauded = "person was" if kudos.applauded_people == 1 else "people were"
    lines.append(f"The team: {shared}; *{kudos.applauded_people}* {applauded} applauded.")
    if kudos.ranking is not None:
        if kudos.ranking:
            lines.append("*Most applauded* (this channel shows a leaderboard):")
            lines += [f"{n}. <@{author}> — {count}"
                      for n, (author, count) in enumerate(kudos.ranking, 1)]
        else:
            lines.append("No applause to rank yet.")
    return "\n".join(lines)
