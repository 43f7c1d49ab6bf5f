"""HOPE reflections: private to their author until the author shares one as a lesson.

Every read here takes the reader's id and returns only what that reader wrote; there is
no function that reads someone else's reflection, for admins or anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.db.models import (
    Entry,
    Kind,
    Reflection,
    Source,
    StoredEntry,
    Visibility,
    WorkspaceSettings,
    utcnow,
)
from bot.services import entries, settings
from bot.services.entries import NewEntry
from bot.services.errors import UserError

DEFAULT_PROMPTS = (
    "Happened — what happened, what did you try?",
    "Outcome — what came of it, and what did you learn?",
    "People & prior knowledge — what documentation, teammates or other teams could have "
    "helped, or could learn from this?",
    "Evolve — what will you do differently next time?",
)
MAX_ANSWER = 3000
MAX_PROMPT = 200
PAGE_SIZE = 10


class ReflectionError(UserError):
    """A reflection, or a prompt, that cannot be stored; the message is fit to show."""


@dataclass(frozen=True)
class Page:
    reflections: list[Reflection]
    page: int
    pages: int
    total: int


def prompts_for(db: Session, team_id: str) -> list[str]:
    """The workspace's four HOPE prompts: an admin's choice, or the defaults."""
    chosen = db.scalar(select(WorkspaceSettings.hope_prompts)
                       .where(WorkspaceSettings.team_id == team_id))
    return list(chosen) if chosen else list(DEFAULT_PROMPTS)


def prompt_problem(prompt: str) -> str | None:
    """What is wrong with one prompt, or None."""
    if not prompt.strip():
        return "A prompt cannot be empty."
    if "\x00" in prompt:
        return "A prompt cannot hold a NUL character (\\0)."
    if len(prompt.strip()) > MAX_PROMPT:
        return f"That is {len(prompt.strip())} characters; a prompt holds at most {MAX_PROMPT}."
    return None


def validate_prompts(prompts: list[str]) -> list[str]:
    """The prompts trimmed, or ReflectionError naming the first bad one (1-based)."""
    if len(prompts) != len(DEFAULT_PROMPTS):
        raise ReflectionError(f"HOPE has {len(DEFAULT_PROMPTS)} prompts.")
    for number, prompt in enumerate(prompts, 1):
        problem = prompt_problem(prompt or "")
        if problem:
            raise ReflectionError(f"Prompt {number}: {problem}")
    return [prompt.strip() for prompt in prompts]


def set_prompts(db: Session, team_id: str, admin_id: str, prompts: list[str] | None) -> None:
    """Store the workspace's prompts (None: back to the defaults). The caller checked
    with Slack that `admin_id` is a workspace admin or owner."""
    if prompts is not None:
        prompts = validate_prompts(prompts)
        if tuple(prompts) == DEFAULT_PROMPTS:
            prompts = None
    settings.workspace_row(db, team_id, admin_id).hope_prompts = prompts


def answer_problems(answers: list[str]) -> dict[int, str]:
    """Per answer (0-based), what is wrong with it; {} when the reflection can be kept."""
    problems = {i: f"That is {len(a):,} characters; an answer holds at most {MAX_ANSWER:,}."
                for i, a in enumerate(answers) if len(a) > MAX_ANSWER}
    problems |= {i: "This answer holds a NUL character (\\0), which cannot be stored."
                 for i, a in enumerate(answers) if "\x00" in a and i not in problems}
    if not any(a.strip() for a in answers):
        problems.setdefault(0, "Write something for at least one of the prompts.")
    return problems


def save(db: Session, team_id: str, author_id: str, prompts: list[str],
         answers: list[str]) -> Reflection:
    """Store a reflection exactly as typed, privately (the caller commits)."""
    problems = answer_problems(answers)
    if problems:
        raise ReflectionError(next(iter(problems.values())))
    reflection = Reflection(team_id=team_id, author_id=author_id, prompts=list(prompts),
                            answers=list(answers), created_at=utcnow())
    db.add(reflection)
    db.flush()
    return reflection


def own(db: Session, team_id: str, author_id: str, reflection_id: int) -> Reflection:
    """One of the caller's own reflections; anyone else's does not exist for them."""
    reflection = db.scalar(select(Reflection).where(
        Reflection.team_id == team_id, Reflection.author_id == author_id,
        Reflection.id == reflection_id))
    if reflection is None:
        raise ReflectionError("You have no such reflection.")
    return reflection


def history(db: Session, team_id: str, author_id: str, page: int = 1) -> Page:
    """The caller's own reflections, newest first, a page at a time."""
    mine = (Reflection.team_id == team_id, Reflection.author_id == author_id)
    total = db.scalar(select(func.count()).select_from(Reflection).where(*mine)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = db.scalars(select(Reflection).where(*mine)
                      .order_by(Reflection.created_at.desc(), Reflection.id.desc())
                      .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return Page(list(rows), page, pages, total)


def own_dated(team_id: str, author_id: str) -> Select[int, datetime]:
    """The caller's own reflections' ids and times, as a statement to page by (the App
    Home's history merges them with the caller's entries)."""
    return select(Reflection.id.label("id"), Reflection.created_at.label("at")).where(
        Reflection.team_id == team_id, Reflection.author_id == author_id)


def own_by_id(db: Session, team_id: str, author_id: str,
              ids: list[int]) -> dict[int, Reflection]:
    """Those of `ids` that are the caller's own reflections, by id."""
    if not ids:
        return {}
    return {r.id: r for r in db.scalars(select(Reflection).where(
        Reflection.team_id == team_id, Reflection.author_id == author_id,
        Reflection.id.in_(ids)))}


def shared_entry(db: Session, reflection: Reflection) -> Entry | None:
    """The lesson made of this reflection, if it was shared and still exists."""
    if reflection.shared_entry_id is None:
        return None
    return entries.get_entry(db, reflection.team_id, reflection.shared_entry_id)


def label(prompt: str) -> str:
    """A prompt's short name: "Happened" for "Happened — what happened…"."""
    return prompt.split(" — ", 1)[0].strip() or prompt


def lesson_text(reflection: Reflection) -> str:
    """The reflection as the text of a lesson: each answered prompt, then its answer."""
    parts = [f"*{label(prompt)}*\n{answer.strip()}"
             for prompt, answer in zip(reflection.prompts, reflection.answers, strict=False)
             if answer.strip()]
    return "\n\n".join(parts)


def share(db: Session, reflection: Reflection, *, channel_id: str, text: str,
          visibility: Visibility, anonymous: bool) -> StoredEntry:
    """Make a lesson of the author's reflection and post it through the outbox.

    This is the only way a reflection's words leave its author; `text` is what the author
    confirmed (they may have trimmed it). Commits."""
    if visibility not in (Visibility.TEAM, Visibility.ORG):
        raise ReflectionError("Share it with the team or the organisation.")
    if shared_entry(db, reflection) is not None:
        raise ReflectionError("You already shared this reflection.")
    entry = entries.log_entry(db, NewEntry(
        team_id=reflection.team_id, channel_id=channel_id, author_id=reflection.author_id,
        kind=Kind.LESSON, text=text, visibility=visibility, anonymous=anonymous,
        source=Source.REFLECTION,
    ), confirm=True)
    reflection.shared_entry_id = entry.id
    return entry
