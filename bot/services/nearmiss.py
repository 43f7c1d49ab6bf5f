"""Near misses: which word a person most likely meant when they mistyped one, for the
"did you mean" of every command and sub-command."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` is a near miss of (`schedul` for `schedule`), or None when no
    choice is close enough to guess."""
    word = word.strip().lower()
    if not word:
        return None
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None

