"""Numbers people type or buttons carry (entry, card, turn and reflection ids, pages,
minutes): ASCII digits only, within the database's INTEGER. `str.isdigit` says yes to `²`
and to digits of other scripts, which `int` then refuses or the database overflows on;
here they are simply not a number, and the caller says so clearly."""

from __future__ import annotations

import re

MAX_INTEGER = 2**31 - 1  # PostgreSQL's INTEGER, the type of every id column
_DIGITS = re.compile(r"[0-9]{1,10}")


def whole_number(text: object) -> int | None:
    """`text` as a whole number from 0 to MAX_INTEGER, or None if it is not one."""
    if not isinstance(text, str | int) or isinstance(text, bool):
        return None
    word = str(text).strip()
    if not _DIGITS.fullmatch(word):
        return None
    number = int(word)
    return number if number <= MAX_INTEGER else None
