"""Deploying as shipped: the Procfile, the Dockerfile and docker-compose.yml run the same
commands, and the lock Heroku's buildpack and the image install from matches pyproject.
No Docker daemon here: these read the files."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.kit.processes import procfile

ROOT = Path(__file__).resolve().parents[1]


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def instruction(name: str) -> list[str]:
    return [line[len(name):].strip() for line in dockerfile() if line.startswith(name + " ")]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_procfile_has_release_web_and_clock_only():
    assert set(procfile()) == {"release", "web", "clock"}


def test_the_image_runs_the_procfiles_web_command():
    (cmd,) = instruction("CMD")
    assert json.loads(cmd) == shlex.split(procfile()["web"])  # exec form: gunicorn is PID 1


def test_compose_runs_the_procfiles_commands():
    services = compose()["services"]
    assert services["web"]["command"] == shlex.split(procfile()["web"])
    assert services["clock"]["command"] == shlex.split(procfile()["clock"])
    assert services["migrate"]["command"] == shlex.split(procfile()["release"])


def test_compose_migrates_before_web_and_clock_start():
    services = compose()["services"]
    for name in ("web", "clock"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_postgres_keeps_its_data_and_says_when_it_is_ready():
    data = compose()
    db = data["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "pgdata" in data["volumes"]
    for name in ("web", "clock", "migrate"):
        url = data["services"][name]["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql://") and "@db:5432/" in url


def test_compose_stops_within_its_grace_and_checks_only_web_over_http():
    services = compose()["services"]
    for name in ("web", "clock"):
        grace = services[name]["stop_grace_period"]
        assert int(grace.rstrip("s")) >= 10  # each process exits within 10 s of SIGTERM
    assert "healthcheck" not in services["web"]  # the image's check on /healthz
    assert services["clock"]["healthcheck"] == {"disable": True}


def test_the_image_is_slim_runs_as_a_user_and_checks_healthz():
    (base,) = instruction("FROM")
    python = (ROOT / ".python-version").read_text().strip()
    assert base == f"python:{python}-slim"
    (user,) = instruction("USER")
    assert user not in ("root", "0")
    (check,) = instruction("HEALTHCHECK")
    assert "/healthz" in check


def test_the_image_installs_the_lock_then_the_package_alone():
    runs = instruction("RUN")
    assert any("--require-hashes -r requirements.txt" in run for run in runs)
    assert any("pip install --no-deps ." in run for run in runs)
    copied = " ".join(instruction("COPY"))
    assert "requirements.txt" in copied


def locked() -> dict[str, tuple[Version, int]]:
    """requirements.txt: each package's pinned version and how many hashes it carries."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "requirements.txt").read_text())
    pins = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert match, f"not pinned: {line}"
        name = match.group(1).lower().replace("_", "-")
        pins[name] = (Version(match.group(2)), line.count("--hash=sha256:"))
    return pins


def test_the_lock_pins_every_dependency_with_hashes_as_pyproject_asks():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]
              + project["optional-dependencies"]["postgres"]]
    pins = locked()
    for requirement in wanted:
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements.txt: run `make lock`"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version), f"{name}=={version} vs {requirement}"
    assert all(hashes > 0 for _, hashes in pins.values())
    assert "tzdata" in pins  # zoneinfo's zones on slim images


def test_python_version_is_one_pyproject_allows():
    python = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", python)  # the major form: the buildpack brings patches
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(f"{python}.0")


def test_the_release_phase_migrates_and_web_serves_the_wsgi_app():
    lines = procfile()
    assert lines["release"] == "python -m bot migrate"
    web = shlex.split(lines["web"])
    assert web[0] == "gunicorn" and web[-1] == "bot.web:create_app()"
    assert web[web.index("--config") + 1] == "python:bot.serving"
    assert lines["clock"] == "python -m bot.clock"
