"""Every callback, block and action id, defined once for the views and the listeners."""

from __future__ import annotations

import enum

COMMAND = "/debrief"


class Callback(enum.StrEnum):
    ENTRY_MODAL = "debrief_entry"
    ROTATION_MODAL = "rotation_settings"
    SETTINGS_MODAL = "debrief_settings"
    ENTRY_EDIT = "debrief_entry_edit"
    ENTRY_DELETE = "debrief_entry_delete"
    SEARCH_MODAL = "debrief_search"


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
    APPLAUSE_EMOJI = "applause_emoji"
    LEADERBOARD = "leaderboard"
    CARD = "card"
    CARD_ADD = "card_add"
    # Where an entry is posted, when the form is opened outside a channel (the App Home).
    POST_TO = "post_to"
    SEARCH = "search"
    CARD_PEOPLE = "card_people"
    CARD_CLOSING = "card_closing"
    NUDGE = "nudge"


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
    APPLAUSE_EMOJI = "applause_emoji_input"
    LEADERBOARD = "leaderboard_check"

    CARD = "card_select"
    # The card message's buttons: one per kind, the card ID as the button's value.
    CARD_ADD_WIN = "card_add_win"
    CARD_ADD_OPPORTUNITY = "card_add_opportunity"
    CARD_ADD_LESSON = "card_add_lesson"
    # Who a card asks (services/collaborators.py); the card ID as the button's value.
    CARD_JOIN = "card_join"
    CARD_LEAVE = "card_leave"
    CARD_WHO = "card_who"
    CARD_CLOSE_ANYWAY = "card_close_anyway"
    CARD_ASK_FIRST = "card_ask_first"
    # The nudge DM's mutes: one card (its ID as the value), or every nudge.
    NUDGE_MUTE_CARD = "nudge_mute_card"
    NUDGE_MUTE_ALL = "nudge_mute_all"
    # A look back's "Message" button: a link to a DM; Slack still tells the app it was
    # pressed, and that must be acknowledged.
    LOOKBACK_DM = "lookback_dm"


    # An entry's message: the overflow menu (edit, delete), for its author alone.
    ENTRY_MENU = "entry_menu"
    POST_TO = "post_to_select"
    SEARCH = "search_input"
    # Buttons that open a form: help's and the App Home's.
    OPEN_ENTRY_MODAL = "open_entry_modal"  # value: the channel, when there is one
    OPEN_SEARCH = "open_search"
    # The App Home: which page to show (value: the page number; 0 is the overview).
    HOME_PAGE = "home_page"

class OutboxAction(enum.StrEnum):
    """What an outbox row asks of Slack; bot/outbox/ has one sender per surface for them."""

    POST_ENTRY = "post_entry"
    DELETE_MESSAGE = "delete_message"
    NOTIFY_USER = "notify_user"  # payload {"text"}: a DM to user_id
    CONFIRM_ENTRY = "confirm_entry"
    RELATED_LESSONS = "related_lessons"
    EPHEMERAL = "ephemeral"  # payload {"text"}: a message only user_id sees in channel_id
    PUBLISH_HOME = "publish_home"  # channel_id and user_id: the person whose Home it is
    POST_CARD = "post_card"
    UPDATE_CARD = "update_card"
    POST_CARD_DEBRIEF = "post_card_debrief"
    UPLOAD_EXPORT = "upload_export"
    POST_DIGEST = "post_digest"
    ROTATION_REMINDER = "rotation_reminder"
    ROTATION_UPDATE = "rotation_update"
    ROTATION_DM = "rotation_dm"
    ROTATION_NOTICE = "rotation_notice"
    ROTATION_SCHEDULE = "rotation_schedule"
    UPDATE_ENTRY = "update_entry"  # an entry's message drawn again: chat.update, same ts
    UPDATE_CARD_DEBRIEF = "update_card_debrief"  # a posted debrief, redrawn
    # forget-me: a digest already posted, drawn again without the person (target_ts).
    REDRAW_DIGEST = "redraw_digest"  # payload {"run_id"}
    DELETE_FILE = "delete_file"  # target_ts: the file id of an export
    # payload {"entry_ids", "oldest", "threads"}: copies of their posts the bot never
    # learned of (a reply lost, the post sent again), found by their metadata.
    SWEEP_DUPLICATES = "sweep_duplicates"
    CARD_NUDGE = "card_nudge"  # card_id, user_id: a DM asking a quiet collaborator
    CARD_ASK = "card_ask"  # card_id, user_id, payload {"by"}: asked before the card closes
    CARD_ZONE = "card_zone"  # user_id: learn a collaborator's Slack zone for their nudges
    # The learning loop (issue 15): captures, check-backs, the health picture.
    CAPTURE_ASK = "capture_ask"  # DM the speaker of a captured message: may we name you?
    CAPTURE_ANSWERED = "capture_answered"  # that DM, its buttons replaced by the answer
    CHECKBACK_PLANNED = "checkback_planned"  # learn the author's zone; say when, offer others
    CHECKBACK_ASK = "checkback_ask"  # DM the author: what came of this opportunity?
    CHECKBACK_ANSWERED = "checkback_answered"  # that DM, its buttons replaced by the answer
    UPLOAD_HEALTH = "upload_health"  # the 12-week picture as a PNG, with its figures in text


# --- /hope and forget-me ---

HOPE_COMMAND = "/hope"


class HopeCallback(enum.StrEnum):
    REFLECTION = "hope_reflection"
    SHARE = "hope_share"
    PROMPTS = "hope_prompts"
    NOTICE = "hope_notice"
    FORGET_ME = "forget_me"


class HopeBlock(enum.StrEnum):
    # The answer to prompt n (1-4) is in block "hope_answer_n"; the prompts modal the same.
    ANSWER = "hope_answer_"
    PROMPT = "hope_prompt_"
    RESET = "hope_prompts_reset"
    SHARE_TEXT = "hope_share_text"
    SHARE_WITH = "hope_share_with"
    SHARE_ANONYMOUS = "hope_share_anonymous"


class HopeAction(enum.StrEnum):
    ANSWER = "hope_answer_input"
    PROMPT = "hope_prompt_input"
    RESET = "hope_prompts_reset_check"
    READ = "hope_read"
    SHARE = "hope_share"
    OPEN = "hope_open"  # a button that opens the reflection modal (help, App Home)
    SHARE_TEXT = "hope_share_text_input"
    SHARE_WITH = "hope_share_with_choice"
    SHARE_ANONYMOUS = "hope_share_anonymous_check"


# --- the learning loop: capture, check back, health (issue 15) ---


class LoopCallback(enum.StrEnum):
    # Shortcuts (manifest.yml): on a message, and from anywhere.
    CAPTURE = "capture_learning"
    LOG = "log_learning"


class LoopBlock(enum.StrEnum):
    QUOTE = "capture_quote"
    CHECK_BACK_DAYS = "check_back_days"


class LoopAction(enum.StrEnum):
    CHECK_BACK_DAYS = "check_back_days_select"
    # The speaker's DM; the value is the capture id.
    CAPTURE_NAMED = "capture_named"
    CAPTURE_ANONYMOUS = "capture_anonymous"
    CAPTURE_REMOVE = "capture_remove"
    # `/debrief TEXT` without a kind; the value is the draft id.
    DRAFT_WIN = "draft_win"
    DRAFT_OPPORTUNITY = "draft_opportunity"
    DRAFT_LESSON = "draft_lesson"
    DRAFT_FORM = "draft_form"
    # When to check back: the value is "CHECKBACK_ID:CHOICE".
    CHECKBACK_WHEN = "checkback_when"
    # The check-back DM; the value is the check-back id.
    CHECKBACK_LEARNED = "checkback_learned"
    CHECKBACK_NOT_YET = "checkback_not_yet"
    CHECKBACK_DROP = "checkback_drop"
