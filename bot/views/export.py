"""An export file: CSV (through the csv module) or a Markdown table, escaped; its name,
title and the note it is shared with."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from bot.services.export import ExportRow

EXTENSIONS = {"csv": "csv", "md": "md"}
HEADER = ["id", "created_at_utc", "kind", "visibility", "author", "author_id", "text", "tags",
          "card", "applause"]
# A spreadsheet runs a cell that starts like a formula: such cells get a leading quote.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
# Characters Markdown would read as markup or as the table's own syntax.
_MARKDOWN = re.compile(r"([\\`*_\[\]|<>#~])")


def _cells(row: ExportRow, names: dict[str, str]) -> list[str]:
    author = "anonymous" if row.author_id is None else names.get(row.author_id, "")
    return [str(row.entry_id), row.created_at.strftime("%Y-%m-%d %H:%M:%S"), row.kind,
            row.visibility, author, row.author_id or "", row.text,
            " ".join(f"#{tag}" for tag in row.tags.split()), row.card or "",
            str(row.applause)]


def _spreadsheet_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA) else cell


def to_csv(rows: list[ExportRow], names: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([_spreadsheet_safe(cell) for cell in _cells(row, names)])
    return out.getvalue()


def md_cell(text: str) -> str:
    """Text made inert in a Markdown table cell: markup escaped, line breaks as <br>."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return re.sub(r"\r\n|\r|\n", "<br>", escaped)


def to_markdown(rows: list[ExportRow], channel_id: str, names: dict[str, str]) -> str:
    lines = [f"# Debrief entries of channel {channel_id}", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(md_cell(cell) for cell in _cells(row, names)) + " |"
              for row in rows]
    return "\n".join(lines) + "\n"


def render(fmt: str, rows: list[ExportRow], channel_id: str,
           names: dict[str, str] | None = None) -> str:
    """The file's text; `names` maps author IDs to display names (anonymous: none)."""
    names = names or {}
    return to_csv(rows, names) if fmt == "csv" else to_markdown(rows, channel_id, names)


def file_name(channel_id: str, fmt: str, day: date) -> str:
    """The file's name: the channel and the day it was drawn."""
    return f"debrief-{channel_id}-{day:%Y-%m-%d}.{EXTENSIONS[fmt]}"


def file_title(count: int) -> str:
    return f"Debrief entries of this channel ({count})"


def shared_note(user_id: str | None, count: int) -> str:
    """Said in the channel with the file: the team sees what left it, and who took it."""
    return f"<@{user_id}> exported this channel's {count} team-visible entries."
