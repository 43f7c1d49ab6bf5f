"""Every callback, block and action id, defined once for the views and the listeners."""

from __future__ import annotations

import enum

COMMAND = "/debrief"


class Callback(enum.StrEnum):
    ENTRY_MODAL = "debrief_entry"
    ROTATION_MODAL = "rotation_settings"


class Block(enum.StrEnum):
    KIND = "kind"
    TEXT = "text"
    VISIBILITY = "visibility"
    ANONYMOUS = "anonymous"
    ROTATION_TURN = "rotation_turn"
    ROTATION_MEMBERS = "rotation_members"
    ROTATION_DAYS = "rotation_days"
    ROTATION_TIME = "rotation_time"
    ROTATION_TZ = "rotation_tz"
    ROTATION_LEAD = "rotation_lead"
    ROTATION_HOLIDAYS = "rotation_holidays"
    ROTATION_PAUSED = "rotation_paused"


class Action(enum.StrEnum):
    KIND = "kind_select"
    TEXT = "text_input"
    VISIBILITY = "visibility_choice"
    ANONYMOUS = "anonymous_check"
    # The rotation reminder's buttons; their value is the turn id.
    ROTATION_SHARE = "rotation_share"
    ROTATION_PASS = "rotation_pass"
    ROTATION_SKIP = "rotation_skip"
    ROTATION_INPUT = "rotation_input"
