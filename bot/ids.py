"""Every callback, block and action id, defined once for the views and the listeners."""

from __future__ import annotations

import enum

COMMAND = "/debrief"


class Callback(enum.StrEnum):
    ENTRY_MODAL = "debrief_entry"
    SETTINGS_MODAL = "debrief_settings"


class Block(enum.StrEnum):
    KIND = "kind"
    TEXT = "text"
    VISIBILITY = "visibility"
    ANONYMOUS = "anonymous"
    APPLAUSE_EMOJI = "applause_emoji"
    LEADERBOARD = "leaderboard"


class Action(enum.StrEnum):
    KIND = "kind_select"
    TEXT = "text_input"
    VISIBILITY = "visibility_choice"
    ANONYMOUS = "anonymous_check"
    APPLAUSE_EMOJI = "applause_emoji_input"
    LEADERBOARD = "leaderboard_check"
