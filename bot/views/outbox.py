"""What a person is told by DM when something they asked for could not be sent to Slack.

Two cases: Slack refused it (an invitation may help), or sending it kept failing on our
side until the outbox `gave_up` (try again later; an outage of Slack's is waited out, and
never ends here). What they wrote is always saved.
"""

from __future__ import annotations


def slack_failed(error: str, gave_up: bool) -> str:
    """Why a send failed for good, in the notice: Slack refused it, or it kept failing."""
    if gave_up:
        return f"sending it kept failing; the last error was `{error}`"
    return f"Slack said `{error}`"


def _invite(gave_up: bool) -> str:
    return "Try again in a while" if gave_up else "Invite me with `/invite @Debrief`"


def entry_not_posted(entry_id: int, channel_id: str, error: str, *, gave_up: bool) -> str:
    """To an entry's author: its message could not be posted in the channel."""
    return (f"I could not post your entry (ID {entry_id}) in <#{channel_id}> "
            f"({slack_failed(error, gave_up)}). It is saved: "
            + ("your Home tab and `/debrief search` have it." if gave_up else
               "invite me with `/invite @Debrief` and log the next one there."))


def edit_not_shown(entry_id: int, channel_id: str, error: str, *, gave_up: bool) -> str:
    """To an entry's author: their edit is saved, but its message could not be updated."""
    return (f"Your edit of entry {entry_id} is saved, but I could not update its message "
            f"in <#{channel_id}> ({slack_failed(error, gave_up)}). Search and your Home tab "
            "show the new text.")


def card_not_posted(card_id: int | None, channel_id: str, error: str, *,
                    gave_up: bool) -> str:
    """To whoever opened a card: its message could not be posted."""
    return (f"I could not post your card (ID {card_id}) in <#{channel_id}> "
            f"({slack_failed(error, gave_up)}). "
            f"{_invite(gave_up)}, then open it again with `/debrief card`.")


def debrief_not_posted(card_id: int | None, channel_id: str, error: str, *,
                       gave_up: bool) -> str:
    """To whoever closed a card: its debrief could not be posted."""
    return (f"I could not post the debrief of card {card_id} in <#{channel_id}> "
            f"({slack_failed(error, gave_up)}). "
            "Everything on it is saved; `/debrief export` has it too.")


def export_not_shared(channel_id: str, error: str, *, gave_up: bool) -> str:
    """To whoever asked for an export: the file could not be shared."""
    return (f"I could not share the export in <#{channel_id}> "
            f"({slack_failed(error, gave_up)}). "
            f"{_invite(gave_up)}, and run `/debrief export` again.")


def digest_not_posted(channel_id: str, error: str, *, gave_up: bool) -> str:
    """To whoever scheduled the organisation digest: this week's could not be posted."""
    advice = "Next week's is due as usual." if gave_up else (
        "Invite me with `/invite @Debrief` there, or move it with "
        "`/debrief digest #channel weekly DAY HH:MM`.")
    return (f"I could not post this week's organisation digest in <#{channel_id}> "
            f"({slack_failed(error, gave_up)}). {advice}")
