"""What a workspace admin chooses: which emoji count as applause, per-channel
leaderboards (and, from the HOPE feature, the reflection prompts)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ChannelSettings, WorkspaceSettings, utcnow
from bot.services.errors import UserError

MAX_EMOJI = 50
# Slack emoji names: lower-case letters, digits and - _ + ' (e.g. +1, thumbsup, man-bowing).
_EMOJI_NAME = re.compile(r"[a-z0-9_+'-]{1,100}")


def is_workspace_admin(user: Mapping[str, Any]) -> bool:
    """Who may change the workspace's settings, its HOPE prompts and its digest: admins
    and owners, by Slack's own account of the person (users.info's `user`)."""
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


@dataclass(frozen=True)
class Choices:
    applause_emoji: list[str] | None
    leaderboard: bool


def choices(db: Session, team_id: str, channel_id: str) -> Choices:
    """The current choices; a workspace that chose nothing counts every emoji."""
    emoji = db.scalar(select(WorkspaceSettings.applause_emoji)
                      .where(WorkspaceSettings.team_id == team_id))
    leaderboard = db.scalar(select(ChannelSettings.leaderboard).where(
        ChannelSettings.team_id == team_id, ChannelSettings.channel_id == channel_id))
    return Choices(applause_emoji=emoji or None, leaderboard=bool(leaderboard))


def parse_emoji(text: str | None) -> list[str] | None:
    """`:tada: :clap:, +1` -> ["tada", "clap", "+1"]; empty means every emoji (None)."""
    names: dict[str, None] = {}
    for raw in re.split(r"[\s,]+", (text or "").strip()):
        name = raw.strip(":").lower()
        name = re.sub(r"::skin-tone-\d$", "", name)
        if not name:
            continue
        if not _EMOJI_NAME.fullmatch(name):
            raise UserError(f"`{raw[:40]}` is not an emoji name; write them like :tada: :clap:")
        names.setdefault(name, None)
    if len(names) > MAX_EMOJI:
        raise UserError(f"Choose at most {MAX_EMOJI} emoji, or leave it empty for all.")
    return list(names) or None


def workspace_row(db: Session, team_id: str, admin_id: str) -> WorkspaceSettings:
    """The workspace's settings row, created if need be, stamped as changed by `admin_id`
    (the caller sets what changed and commits)."""
    workspace = db.get(WorkspaceSettings, team_id)
    if workspace is None:
        workspace = WorkspaceSettings(team_id=team_id)
        db.add(workspace)
    workspace.updated_by = admin_id
    workspace.updated_at = utcnow()
    return workspace


def save(db: Session, team_id: str, channel_id: str, user_id: str, *,
         applause_emoji: list[str] | None, leaderboard: bool) -> None:
    """Store an admin's choices (the caller commits)."""
    workspace_row(db, team_id, user_id).applause_emoji = applause_emoji
    channel = db.get(ChannelSettings, (team_id, channel_id))
    if channel is None:
        channel = ChannelSettings(team_id=team_id, channel_id=channel_id)
        db.add(channel)
    channel.leaderboard = leaderboard


# When opportunities are asked about by default (bot/services/checkback.py): 0 is never.
CHECK_BACK_CHOICES = (0, 7, 14, 30)


def set_check_back_days(db: Session, team_id: str, admin_id: str, days: int) -> None:
    """An admin's choice of when opportunities are checked back on (the caller commits)."""
    if days not in CHECK_BACK_CHOICES:
        raise UserError("Choose a week, two weeks, a month, or don't ask.")
    workspace_row(db, team_id, admin_id).check_back_days = days
