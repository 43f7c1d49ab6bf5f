"""Forget me: erase everything one person wrote in a workspace, and their words and name
from everything the bot posted or keeps (PRODUCT.md §7): their entries' messages are
deleted; card debriefs and digests already posted that showed their entries, and the
cards they opened (their title, their name), are drawn again without them; exports that
held their entries, or that they asked for, are deleted from Slack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import (
    Applause,
    Capture,
    Card,
    CheckBack,
    Digest,
    Entry,
    OutboxMessage,
    OutboxStatus,
    Reflection,
    Visibility,
)
from bot.ids import OutboxAction
from bot.services import cards, collaborators, digest, drafts, outbox

# What a card opened by someone who asked to be forgotten is called from then on.
UNTITLED = "Untitled card"


@dataclass(frozen=True)
class Footprint:
    """How much a person has stored in a workspace."""

    entries: int
    reflections: int
    applause_given: int
    applause_received: int
    messages: int  # bot messages in channels that carry their entries
    # Others' entries captured from their messages (their words): erased too.
    captured: int = 0

    @property
    def empty(self) -> bool:
        return not (self.entries or self.reflections or self.applause_given
                    or self.applause_received or self.captured)


def _applause_given(team_id: str, user_id: str) -> tuple[ColumnElement[bool], ...]:
    return (Applause.team_id == team_id, Applause.reactor_id == user_id)


def _applause_received(team_id: str, user_id: str,
                       entry_ids: list[int]) -> tuple[ColumnElement[bool], ...]:
    received = Applause.author_id == user_id
    if entry_ids:
        received = or_(received, Applause.entry_id.in_(entry_ids))
    return (Applause.team_id == team_id, received)


def _count(db: Session, model: type, *where: ColumnElement[bool]) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def footprint(db: Session, team_id: str, user_id: str) -> Footprint:
    """What `forget` would erase for this person, counted."""
    entries = db.execute(select(Entry.id, Entry.message_ts).where(
        Entry.team_id == team_id, Entry.author_id == user_id)).all()
    entry_ids = [row.id for row in entries]
    return Footprint(
        entries=len(entries),
        reflections=_count(db, Reflection, Reflection.team_id == team_id,
                           Reflection.author_id == user_id),
        applause_given=_count(db, Applause, *_applause_given(team_id, user_id)),
        applause_received=_count(db, Applause, *_applause_received(team_id, user_id, entry_ids)),
        messages=sum(1 for row in entries if row.message_ts),
        captured=len(_captured_from(db, team_id, user_id)),
    )


def _sent(db: Session, team_id: str, action: OutboxAction,
          *where: ColumnElement[bool]) -> list[OutboxMessage]:
    """The rows of `action` Slack took, with what it made of them (`result_ts`)."""
    return list(db.scalars(select(OutboxMessage).where(
        OutboxMessage.team_id == team_id, OutboxMessage.action == action,
        OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.result_ts.is_not(None),
        *where)))


def _captured_from(db: Session, team_id: str, user_id: str) -> list[int]:
    """Entries others captured from the person's messages: the words were theirs."""
    return list(db.scalars(select(Capture.entry_id).where(
        Capture.team_id == team_id, Capture.speaker_id == user_id)))


def _bot_dms_of(db: Session, team_id: str, user_id: str) -> list[tuple[str, str]]:
    """The bot's DMs that quote the person's words: check-back asks and capture asks."""
    asks = list(db.execute(select(CheckBack.dm_channel_id, CheckBack.dm_ts).where(
        CheckBack.team_id == team_id, CheckBack.user_id == user_id,
        CheckBack.dm_ts.is_not(None))).all())
    asks += db.execute(select(Capture.asked_channel_id, Capture.asked_ts).where(
        Capture.team_id == team_id, Capture.speaker_id == user_id,
        Capture.asked_ts.is_not(None))).all()
    return [(channel, ts) for channel, ts in asks if channel and ts]


def forget(db: Session, team_id: str, user_id: str) -> Footprint:
    """Erase the person's entries, reflections and applause (given and received) in this
    workspace; queue the deletion of every bot message carrying one of their entries and
    of every export that held one (or that they asked for); queue the card debriefs and
    digests that showed one to be drawn again without it; untitle and unname the cards
    they opened. Returns what was erased (the caller commits)."""
    erased = footprint(db, team_id, user_id)
    captured = _captured_from(db, team_id, user_id)
    for channel, ts in _bot_dms_of(db, team_id, user_id):
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.DELETE_MESSAGE,
                       channel_id=channel, target_ts=ts)
    # Check-backs and captures go with their entries (ON DELETE CASCADE); a check-back
    # is the author's own, and its DM quoted them: gone explicitly, whatever the pragma.
    db.execute(delete(CheckBack).where(CheckBack.team_id == team_id,
                                       CheckBack.user_id == user_id))
    drafts.forget_person(db, team_id, user_id)
    entries = db.scalars(select(Entry).where(
        Entry.team_id == team_id,
        or_(Entry.author_id == user_id, Entry.id.in_(captured)))).all()
    entry_ids = [entry.id for entry in entries]
    for entry in entries:
        if entry.message_ts and entry.message_channel_id:
            outbox.enqueue(db, team_id=team_id, action=OutboxAction.DELETE_MESSAGE,
                           channel_id=entry.message_channel_id, target_ts=entry.message_ts)
    # Before anything is deleted: what already-posted messages showed them.
    digests = _digests_showing(db, team_id, user_id)
    exports = _exports_holding(db, team_id, user_id, entries)
    touched_cards = _cards_touched(db, team_id, user_id, entries)

    db.execute(delete(Applause).where(*_applause_received(team_id, user_id, entry_ids)))
    db.execute(delete(Applause).where(*_applause_given(team_id, user_id)))
    db.execute(delete(Reflection).where(Reflection.team_id == team_id,
                                        Reflection.author_id == user_id))
    collaborators.forget(db, team_id, user_id)  # off every card, nudge settings gone
    if entry_ids:
        db.execute(delete(Entry).where(Entry.team_id == team_id, Entry.id.in_(entry_ids)))
        # Finished sends that pointed at their entries; pending ones are left to the
        # sender, which skips a deleted entry and takes down a message posted meanwhile.
        db.execute(delete(OutboxMessage).where(
            OutboxMessage.team_id == team_id, OutboxMessage.entry_id.in_(entry_ids),
            OutboxMessage.status != OutboxStatus.PENDING))
    _unname_cards(db, team_id, user_id, touched_cards)
    db.execute(update(Digest).where(Digest.team_id == team_id, Digest.created_by == user_id)
               .values(created_by=""))
    for row in digests:
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.REDRAW_DIGEST,
                       channel_id=row.channel_id, target_ts=row.result_ts,
                       payload=dict(row.payload or {}))
    for row in exports:  # the file recorded, and any copy a lost reply left (its name says)
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.DELETE_FILE,
                       channel_id=row.channel_id, target_ts=row.result_ts,
                       payload={"export_row": row.id,
                                "queued": int(row.created_at.timestamp())})
    for channel_id, payload in _sweeps(db, team_id, entries).items():
        outbox.enqueue(db, team_id=team_id, action=OutboxAction.SWEEP_DUPLICATES,
                       channel_id=channel_id, payload=payload)
    return erased


def _sweeps(db: Session, team_id: str, entries: Sequence[Entry]) -> dict[str, dict]:
    """Per channel where their entries were posted: which entries, since when, and the
    card threads they went to; any copy of their posts there is taken down too (a post
    sent again after its reply was lost leaves a copy the bot never learned of)."""
    sweeps: dict[str, dict] = {}
    for entry in entries:
        if entry.visibility == Visibility.PRIVATE:
            continue
        sweep = sweeps.setdefault(entry.message_channel_id or entry.channel_id,
                                  {"entry_ids": [], "oldest": None, "threads": [],
                                   "known": []})
        sweep["entry_ids"].append(entry.id)
        if entry.message_ts:  # deleted by its own DELETE_MESSAGE
            sweep["known"].append(entry.message_ts)
        posted_from = f"{entry.created_at.timestamp() - 60:.6f}"  # Slack's ts: seconds
        if sweep["oldest"] is None or float(posted_from) < float(sweep["oldest"]):
            sweep["oldest"] = posted_from
        if entry.card_id is not None:
            card = cards.get_card(db, team_id, entry.card_id)
            if card is not None and card.message_ts and card.message_ts not in sweep["threads"]:
                sweep["threads"].append(card.message_ts)
    return sweeps


def _digests_showing(db: Session, team_id: str, user_id: str) -> list[OutboxMessage]:
    """Posted digests that showed one of the person's entries (drawn as they were)."""
    showing = []
    for row in _sent(db, team_id, OutboxAction.POST_DIGEST):
        _run, items = digest.highlights(db, int((row.payload or {}).get("run_id") or 0))
        if any(item.entry.author_id == user_id for item in items):
            showing.append(row)
    return showing


def _exports_holding(db: Session, team_id: str, user_id: str,
                     entries: Sequence[Entry]) -> list[OutboxMessage]:
    """Exports shared since the person's first exportable entry in their channel, and
    every export they asked for (the file's note names them); with those that may have
    been shared though Slack's reply was lost (`unsure_since`: waiting to be tried again,
    or given up on)."""
    first: dict[str, datetime] = {}
    for entry in entries:
        if entry.visibility != Visibility.PRIVATE:
            seen = first.get(entry.channel_id)
            first[entry.channel_id] = entry.created_at if seen is None \
                else min(seen, entry.created_at)

    def held(row: OutboxMessage) -> bool:
        since = first.get(row.channel_id)
        shared = row.sent_at or row.unsure_since
        return since is not None and shared is not None and shared >= since

    maybe = list(db.scalars(select(OutboxMessage).where(
        OutboxMessage.team_id == team_id, OutboxMessage.action == OutboxAction.UPLOAD_EXPORT,
        OutboxMessage.status != OutboxStatus.SENT, OutboxMessage.unsure_since.is_not(None))))
    return [row for row in _sent(db, team_id, OutboxAction.UPLOAD_EXPORT) + maybe
            if row.user_id == user_id or held(row)]


def _cards_touched(db: Session, team_id: str, user_id: str,
                   entries: Sequence[Entry]) -> list[Card]:
    """Cards that show the person: their entries on it, or they opened or closed it."""
    on_cards = {entry.card_id for entry in entries if entry.card_id is not None}
    return list(db.scalars(select(Card).where(Card.team_id == team_id, or_(
        Card.id.in_(on_cards), Card.opened_by == user_id, Card.closed_by == user_id))))


def _unname_cards(db: Session, team_id: str, user_id: str, touched: list[Card]) -> None:
    """The cards lose the person's title and name, and Slack's copies are drawn again:
    the card, its debrief if posted, and others' entries in its thread (they show the
    card's title)."""
    for card in touched:
        retitled = card.opened_by == user_id
        if retitled:
            card.title, card.opened_by = UNTITLED, ""
        if card.closed_by == user_id:
            card.closed_by = None
        db.flush()
        cards.changed(db, team_id, card.id, delay=cards.REFRESH_DELAY)
        cards.debrief_changed(db, team_id, card.id)  # a posted debrief is drawn again
        if retitled:
            for entry in db.scalars(select(Entry).where(
                    Entry.team_id == team_id, Entry.card_id == card.id,
                    Entry.author_id != user_id, Entry.message_ts.is_not(None))):
                outbox.enqueue(db, team_id=team_id, action=OutboxAction.UPDATE_ENTRY,
                               channel_id=entry.message_channel_id or entry.channel_id,
                               entry_id=entry.id)
