"""Time zones and holiday countries a person can pick from, found by what they type: the
rotation modal's searchable selects. Which of them are valid is schedule.py's rule (it
accepts every name zoneinfo and `holidays` know); these are the ones worth offering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

import holidays
from holidays import registry

# Zones under these areas are the ones people live in; the rest (US/Eastern, Etc/GMT+5,
# EST5EDT…) are older aliases: still accepted when typed, not offered.
_AREAS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/",
          "Australia/", "Europe/", "Indian/", "Pacific/")
_SEPARATORS = re.compile(r"[\s_\-/]+")
_SMALL_WORDS = {"and", "of", "the", "da", "du"}


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166 alpha-2, as the rotation stores it
    name: str


def _words(text: str) -> str:
    return _SEPARATORS.sub(" ", text.lower()).strip()


def _rank(typed: str, name: str, *exact: str) -> int | None:
    """How well `typed` matches `name` (lower is better), or None if it does not."""
    if typed in exact:
        return 0
    words = _words(name)
    if words.startswith(typed):
        return 1
    if f" {typed}" in f" {words}":
        return 2  # the start of any word: "york" finds America/New_York
    return 3 if typed in words else None


@lru_cache(maxsize=1)
def offered_zones() -> tuple[str, ...]:
    return tuple(sorted(["UTC", *(z for z in available_timezones() if z.startswith(_AREAS))]))


def find_zones(typed: str, limit: int = 100) -> list[str]:
    """Time zone names matching what was typed (`berlin`, `new york`, `europe/`), the
    best matches first; with nothing typed, the first `limit` in order."""
    query = _words(typed)
    if not query:
        return list(offered_zones()[:limit])
    ranked = []
    for name in offered_zones():
        # By its city first (`york`), then by the whole name (`america`).
        rank = _rank(query, name.rsplit("/", 1)[-1], _words(name))
        rank = rank if rank is not None else _rank(query, name)
        if rank is not None:
            ranked.append((rank, name))
    return [name for _, name in sorted(ranked)[:limit]]


def _country_name(module: str) -> str:
    return " ".join(w if w in _SMALL_WORDS else w.capitalize() for w in module.split("_"))


@lru_cache(maxsize=1)
def _countries() -> tuple[tuple[Country, tuple[str, ...]], ...]:
    """Every country `holidays` knows, with the other codes it answers to (GBR, UK)."""
    supported = holidays.list_supported_countries(include_aliases=False)
    found = []
    for module, (_cls, code, *others) in registry.COUNTRIES.items():
        if code in supported:
            aliases = tuple(o.lower() for o in others if not o.startswith("Holidays"))
            found.append((Country(code, _country_name(module)), aliases))
    return tuple(sorted(found, key=lambda item: item[0].name))


def find_countries(typed: str, limit: int = 100) -> list[Country]:
    """Countries with public holidays matching what was typed: a code (`DE`, `GBR`,
    `UK`) or a name (`germ`, `kingdom`), the best matches first."""
    query = _words(typed)
    if not query:
        return [country for country, _ in _countries()[:limit]]
    ranked = []
    for country, aliases in _countries():
        rank = _rank(query, country.name, country.code.lower(), *aliases)
        if rank is not None:
            ranked.append((rank, country.name, country))
    return [country for _, _, country in sorted(ranked)[:limit]]


def country_name(code: str) -> str:
    """The country's name for a code the rotation stores (the code itself if unknown)."""
    return next((c.name for c, _ in _countries() if c.code == code), code)
