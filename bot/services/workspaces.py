"""Workspaces: which ones the bot serves (and under which enterprise), what happens when one
uninstalls the app, and erasing its data once the retention is over.

An uninstall (`app_uninstalled`, or `tokens_revoked` for the bot) deletes the workspace's
tokens and its waiting posts at once, in the same transaction, and sets the day its data
is erased. A reinstall before that day clears it: the data is found again. The erasure is
claimed in the database (the workspace row is updated, then deleted, in one transaction),
so of any number of clocks one erases each workspace, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import (
    BOTS_TABLE,
    INSTALLATIONS_TABLE,
    Base,
    OutboxMessage,
    OutboxStatus,
    Workspace,
    utcnow,
)


def installed(db: Session, team_id: str, enterprise_id: str | None, *,
              org_install: bool = False, now: datetime | None = None) -> Workspace:
    """Record that the bot serves this workspace: installed, reinstalled, or seen for the
    first time under an org-wide install. A reinstall cancels a pending erasure."""
    now = now or utcnow()
    workspace = db.get(Workspace, team_id)
    if workspace is None:
        try:
            with db.begin_nested():  # another process may record it at the same moment
                workspace = Workspace(team_id=team_id, enterprise_id=enterprise_id,
                                      org_install=org_install, installed_at=now)
                db.add(workspace)
            return workspace
        except IntegrityError:
            workspace = db.get(Workspace, team_id)
            assert workspace is not None
    if workspace.uninstalled_at is not None:
        workspace.installed_at = now
    workspace.enterprise_id = enterprise_id
    workspace.org_install = org_install
    workspace.uninstalled_at = None
    workspace.erase_after = None
    db.flush()
    return workspace


def org_installed(db: Session, enterprise_id: str, *, now: datetime | None = None) -> list[str]:
    """An org-wide install (again): the workspaces it served before find their data again
    (others are recorded as their first requests come in). Returns those workspaces."""
    teams = list(db.scalars(select(Workspace.team_id).where(
        Workspace.enterprise_id == enterprise_id, Workspace.org_install.is_(True))))
    for team in teams:
        installed(db, team, enterprise_id, org_install=True, now=now)
    return teams


def find(db: Session, team_id: str) -> Workspace | None:
    """The workspace as recorded, or None if it was never seen (or is erased)."""
    return db.get(Workspace, team_id)


def uninstalled(db: Session, team_id: str | None, enterprise_id: str | None, *,
                org_install: bool, retention_days: int, when: datetime | None = None,
                now: datetime | None = None) -> list[str]:
    """The app was uninstalled (or its bot token revoked) at `when`: delete the tokens,
    drop every post still waiting, and set the day the data goes. An org-wide install
    takes every workspace it served along. Installed again after `when` (this is a late
    copy of the event): nothing changes. Returns the workspaces affected."""
    now = now or utcnow()
    when = when or now
    team_id = None if org_install else team_id
    if _installed_since(db, team_id, enterprise_id, when):
        return []
    if org_install:
        teams = list(db.scalars(select(Workspace.team_id).where(
            Workspace.enterprise_id == enterprise_id, Workspace.org_install.is_(True))))
    else:
        teams = [team_id] if team_id else []
    for name in (BOTS_TABLE, INSTALLATIONS_TABLE):
        table = Base.metadata.tables[name]
        db.execute(delete(table).where(_install_of(table, team_id, enterprise_id)))
    erase_after = now + timedelta(days=retention_days)
    for team in teams:
        workspace = db.get(Workspace, team) or Workspace(
            team_id=team, enterprise_id=enterprise_id, org_install=org_install,
            installed_at=when)
        workspace.uninstalled_at = now
        workspace.erase_after = erase_after
        db.add(workspace)
    if teams:
        # A post being sent this very moment is left to its sender: if it fails, its next
        # try finds no token and drops it (bot/outbox/delivery.py).
        db.execute(delete(OutboxMessage).where(
            OutboxMessage.team_id.in_(teams), OutboxMessage.status == OutboxStatus.PENDING,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)))
    db.flush()
    return teams


def _install_of(table: Table, team_id: str | None, enterprise_id: str | None) -> Any:
    """slack_sdk's rows of one install: a workspace's by its team, an org-wide install's
    by its enterprise (stored with no team)."""
    if team_id is not None:
        return table.c.team_id == team_id
    return (table.c.enterprise_id == enterprise_id) & table.c.team_id.is_(None)


def _installed_since(db: Session, team_id: str | None, enterprise_id: str | None,
                     when: datetime) -> bool:
    # Slack's event_time counts whole seconds: an install in that second came before.
    when = when + timedelta(seconds=1)
    bots = Base.metadata.tables[BOTS_TABLE]
    newest = db.scalar(select(func.max(bots.c.installed_at))
                       .where(_install_of(bots, team_id, enterprise_id)))
    if newest is not None and newest.replace(tzinfo=UTC) > when:
        return True
    workspace = db.get(Workspace, team_id) if team_id else None
    return workspace is not None and workspace.uninstalled_at is None \
        and workspace.installed_at > when


def is_uninstalled(db: Session, team_id: str) -> bool:
    """Whether the workspace uninstalled the app (and has not come back)."""
    return db.scalar(select(Workspace.uninstalled_at).where(
        Workspace.team_id == team_id)) is not None


def due_for_erasure(db: Session, now: datetime) -> list[str]:
    """Uninstalled workspaces whose retention is over."""
    return list(db.scalars(select(Workspace.team_id).where(Workspace.erase_after <= now)
                           .order_by(Workspace.erase_after)))


def erase(db: Session, team_id: str, now: datetime) -> bool:
    """Erase everything of an uninstalled workspace whose time has come; False when it
    was reinstalled, or another clock erased it first. The claim is the UPDATE: on
    PostgreSQL a second clock waits for the first to commit, then finds no row."""
    claimed = cast(CursorResult[Any], db.execute(
        update(Workspace).where(Workspace.team_id == team_id, Workspace.erase_after <= now,
                                Workspace.uninstalled_at.is_not(None))
        .values(erase_after=None).execution_options(synchronize_session=False)))
    if (claimed.rowcount or 0) != 1:
        return False
    for table in _workspace_tables():
        db.execute(delete(table).where(table.c.team_id == team_id))
    db.execute(delete(Workspace).where(Workspace.team_id == team_id))
    return True


def _workspace_tables() -> Iterable[Table]:
    """Every table of ours whose rows belong to a workspace, those that refer to others
    first (slack_sdk's tables hold only tokens, deleted at the uninstall)."""
    for table in reversed(Base.metadata.sorted_tables):
        if "team_id" in table.c and table.name != Workspace.__tablename__ \
                and not table.name.startswith("slack_"):
            yield table

