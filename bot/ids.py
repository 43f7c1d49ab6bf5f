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
    CARD = "card"
    CARD_ADD = "card_add"


class Action(enum.StrEnum):
    KIND = "kind_select"
    TEXT = "text_input"
    VISIBILITY = "visibility_choice"
    ANONYMOUS = "anonymous_check"
    CARD = "card_select"
    # The card message's buttons: one per kind, the card ID as the button's value.
    CARD_ADD_WIN = "card_add_win"
    CARD_ADD_OPPORTUNITY = "card_add_opportunity"
    CARD_ADD_LESSON = "card_add_lesson"
