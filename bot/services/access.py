"""Who may do what (PRODUCT.md §7), decided when the change is made, from Slack's account
of the person as the listener obtained it (bot/directory.py). No Slack in here: a rule
takes a `Person` (or the channels a person is in) and raises UserError, which changes
nothing and tells them why."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bot.services import settings
from bot.services.errors import UserError

COULD_NOT_CHECK = ("I could not check with Slack just now whether you may do that, so "
                   "nothing was changed. Please try again in a minute.")


def is_guest(user: Mapping[str, Any]) -> bool:
    """A single- or multi-channel guest, by Slack's own account of the person."""
    return bool(user.get("is_restricted") or user.get("is_ultra_restricted"))


@dataclass(frozen=True)
class Person:
    """Someone acting or reading, as Slack knows them now. `admin` and `guest` are None
    when Slack could not be asked: every rule then refuses what depends on them."""

    user_id: str
    admin: bool | None = False
    guest: bool | None = False

    @classmethod
    def from_slack(cls, user_id: str, user: Mapping[str, Any] | None) -> Person:
        if user is None:
            return cls(user_id, admin=None, guest=None)
        # The one admin rule: bot.services.settings.is_workspace_admin.
        return cls(user_id, admin=settings.is_workspace_admin(user), guest=is_guest(user))


def require_admin(person: Person, refusal: str, error: type[UserError] = UserError) -> None:
    """Only workspace admins and owners; `refusal` says so to everyone else."""
    if person.admin is None:
        raise error(COULD_NOT_CHECK)
    if not person.admin:
        raise error(refusal)


def require_full_member(person: Person, refusal: str) -> None:
    """Not a guest (single- or multi-channel)."""
    if person.guest is None:
        raise UserError(COULD_NOT_CHECK)
    if person.guest:
        raise UserError(refusal)


def require_in_channel(channels: Collection[str] | None, channel_id: str,
                       refusal: str) -> None:
    """`channel_id` is among the channels the person is in (None: Slack did not say)."""
    if channels is None:
        raise UserError(COULD_NOT_CHECK)
    if channel_id not in channels:
        raise UserError(refusal)


def owner_or_admin(person: Person, owner_id: str | None, refusal: str,
                   error: type[UserError] = UserError) -> None:
    """The owner of a thing (a card's opener, the one whose turn it is), or an admin."""
    if owner_id is not None and person.user_id == owner_id:
        return
    require_admin(person, refusal, error)
