"""Every callback, block and action id, defined once for the views and the listeners."""

from __future__ import annotations

import enum

COMMAND = "/debrief"


class Callback(enum.StrEnum):
    ENTRY_MODAL = "debrief_entry"


class Block(enum.StrEnum):
    KIND = "kind"
    TEXT = "text"
    VISIBILITY = "visibility"
    ANONYMOUS = "anonymous"


class Action(enum.StrEnum):
    KIND = "kind_select"
    TEXT = "text_input"
    VISIBILITY = "visibility_choice"
    ANONYMOUS = "anonymous_check"
