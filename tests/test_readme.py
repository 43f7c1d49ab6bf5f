"""The README against the tree it describes: the code map names every module where it
lives, the settings table holds every setting, the benchmarks section every benchmark.
These read files only."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else None]


def tracked(*folders: str) -> list[PurePosixPath]:
    listed = subprocess.run(["git", "ls-files", *folders], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    if not listed:  # not a git checkout (an unpacked copy): what is on disk
        listed = [str(path.relative_to(ROOT)) for folder in folders
                  for path in (ROOT / folder).rglob("*") if path.is_file()
                  and "__pycache__" not in path.parts]
    return [PurePosixPath(name) for name in listed]


def code_map() -> dict[str, list[str]]:
    """The map's lines by folder ("bot/listeners"): each line goes to the deepest folder
    open above it, and to the folders that hold that one."""
    block = section("Map of the code").split("```")[1]
    lines: dict[str, list[str]] = {}
    open_folders: list[tuple[int, str]] = []  # (indent, path)
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        first = line.split()[0]
        if first.endswith("/") or first.endswith(".py"):  # a folder or a module, not prose
            while open_folders and open_folders[-1][0] >= indent:
                open_folders.pop()
        if first.endswith("/"):
            parent = open_folders[-1][1] + "/" if open_folders else ""
            open_folders.append((indent, parent + first.rstrip("/")))
            lines.setdefault(open_folders[-1][1], [])
        for _, folder in open_folders:
            lines[folder].append(line if folder == open_folders[-1][1] else "")
        lines[open_folders[-1][1]][-1] = line
    return lines


def only_a_docstring(path: PurePosixPath) -> bool:
    body = ast.parse((ROOT / path).read_text()).body
    return len(body) <= 1 and all(isinstance(node, ast.Expr) for node in body)


def test_the_code_map_names_every_folder_and_module_where_it_lives():
    found = code_map()
    files = [path for path in tracked("bot", "tests")
             if path.suffix == ".py" and "migrations" not in path.parts]
    folders = {str(path.parent) for path in files} | {"bot/db/migrations"}
    assert folders <= set(found), f"folders not in the map: {folders - set(found)}"
    for path in files:
        if path.name == "__init__.py" and only_a_docstring(path) and path.parent.name != "tests":
            continue  # an empty package marker (tests/'s are named all the same)
        text = "\n".join(found[str(path.parent)])
        if path.name.startswith("test_") and "test_*.py" in text:
            continue
        assert re.search(rf"(?<!\w){re.escape(path.stem)}(\.py)?(?!\w)", text), \
            f"{path} is not in the map under {path.parent}/"


def test_the_code_map_names_nothing_that_is_not_there():
    found = code_map()
    tree = {str(path) for path in tracked("bot", "tests", "bench")}
    for folder, lines in found.items():
        assert any(name.startswith(folder + "/") for name in tree), f"{folder}/ is not there"
        for line in lines:
            for name in re.findall(r"(?<![\w/*])(\w+\.py)\b", line):
                assert f"{folder}/{name}" in tree, f"{folder}/{name} is in the map, not there"


def test_the_settings_table_is_one_table_with_every_setting():
    config = (ROOT / "bot/config.py").read_text()
    names = set(re.findall(r'\bget\("([A-Z_]+)"\)', config)) | {"PROMETHEUS_MULTIPROC_DIR"}
    table = section("Settings").strip().split("\n", 1)[1].strip()
    rows = table.splitlines()
    assert all(row.startswith("|") for row in rows), "a blank line or text splits the table"
    in_rows = set(re.findall(r"`([A-Z_]+)`", "\n".join(row.split("|")[1] for row in rows)))
    assert names <= in_rows, f"not in the Settings table: {names - in_rows}"


def test_the_benchmarks_section_names_every_benchmark_and_the_floor():
    text = section("Benchmarks")
    for path in tracked("bench"):
        if path.suffix == ".py" and path.name != "__init__.py":
            assert f"`bench/{path.name}" in text, f"{path} is not in the Benchmarks section"
    assert "create_storing_app" in text  # the floor a durable ack is compared against
    assert "create_storing_app" in (ROOT / "bench/bare_app.py").read_text()


def test_the_readme_says_what_make_bench_runs():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    run = re.findall(r"python (bench/\w+\.py)", recipe)
    assert run
    said = re.search(r"`make bench`\s+runs\s+((?:`bench/\w+\.py`(?:,\s*|\s+and\s+)?)+)",
                     README)
    assert said, "the README does not say which benchmarks `make bench` runs"
    assert set(re.findall(r"`(bench/\w+\.py)", said.group(1))) == set(run)
