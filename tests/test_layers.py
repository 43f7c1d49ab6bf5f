"""The house's floors (STYLE.md): Slack-in and Slack-out above the views, services and
database; services never see Slack nor a dialect; one owner per transaction."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_outbox_wing import commits, imports

BOT = Path(__file__).resolve().parents[1] / "bot"
# What services may use of bot/db: the models and the named calls.
NAMED_CALLS = {"bot.db", "bot.db.models", "bot.db.fastpath", "bot.db.fulltext"}


def modules(folder: str) -> list[Path]:
    return sorted((BOT / folder).rglob("*.py"))


def test_services_see_neither_slack_nor_the_database_beyond_its_named_calls():
    for path in modules("services"):
        found = imports(path)
        assert not [m for m in found if m.startswith(("slack_sdk", "slack_bolt"))], path
        assert not [m for m in found if m.startswith(("bot.listeners", "bot.outbox"))], path
        assert {m for m in found if m.startswith("bot.db")} <= NAMED_CALLS, path


def test_views_never_touch_the_database():
    for path in modules("views"):
        assert not [m for m in imports(path) if m.startswith("bot.db")
                    and m != "bot.db.models"], path
        assert "session" not in path.read_text().lower() or path.name == "__init__.py", path


def test_only_the_unit_of_work_commits_a_request_and_services_never_commit():
    for path in modules("listeners"):
        if path.name != "unit.py":
            assert commits(path) == [], path
    for path in modules("services"):
        assert commits(path) == [], path


def dialect_knowledge(path: Path) -> list[int]:
    """Lines where code (not prose) names a dialect, asks for one, or imports one."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "dialect" \
                or isinstance(node, ast.ImportFrom) and "dialects" in (node.module or "") \
                or isinstance(node, ast.Constant) and id(node) not in docstrings \
                and isinstance(node.value, str) \
                and node.value.lower().startswith(("postgresql", "sqlite")):
            found.append(node.lineno)
    return found


def test_only_bot_db_knows_which_database_it_talks_to():
    for path in sorted(BOT.rglob("*.py")):
        if path.is_relative_to(BOT / "db") or path.name == "config.py":  # config: URLs
            continue
        assert dialect_knowledge(path) == [], path
