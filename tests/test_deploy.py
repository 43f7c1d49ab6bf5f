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
    installs = [shlex.split(part) for run in runs for part in run.split("&&")
                if part.split()[:2] == ["pip", "install"]]
    assert installs[0] == ["pip", "install", "--require-hashes", "-r", "requirements.txt"]
    # The package alone, built with the locked setuptools: build isolation would fetch the
    # build backend unpinned, without hashes.
    assert installs[1:] == [["pip", "install", "--no-deps", "--no-build-isolation", "."]]
    copied = " ".join(instruction("COPY"))
    assert "requirements.txt" in copied


def test_the_lock_pins_the_build_backend_the_image_builds_with():
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    pins = locked()
    for requirement in map(Requirement, build):
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements.txt: run `make lock`"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version) and hashes > 0


def image_env() -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set."""
    found: dict[str, str] = {}
    for env in instruction("ENV"):
        for word in shlex.split(env):
            name, value = word.split("=", 1)
            found[name] = value
    return found


def commands_run() -> list[list[str]]:
    """Every command of the Dockerfile's RUN instructions, split into words."""
    return [shlex.split(part) for run in instruction("RUN") for part in run.split("&&")]


def test_the_image_spools_events_where_its_user_may_write_on_a_compose_volume():
    # An event that arrives while the database is down is kept in SPOOL_DIR: the image's
    # user must be able to create files there (WORKDIR /app is root's), and the files must
    # outlive the container.
    spool = image_env()["SPOOL_DIR"]
    assert spool.startswith("/") and not spool.startswith("/app")
    (user,) = instruction("USER")
    assert ["mkdir", "-p", spool] in [words[:3] for words in commands_run()]
    owned = []  # (path, recursive) chowned to the user
    for words in commands_run():
        if words[0] == "chown":
            owner, *paths = [word for word in words[1:] if not word.startswith("-")]
            if owner.split(":")[0] == user:
                owned += [(Path(path), "-R" in words) for path in paths]
    assert any(path == Path(spool) or (recursive and path in Path(spool).parents)
               for path, recursive in owned)

    data = compose()
    web = data["services"]["web"]
    mounts = [volume.split(":") for volume in web["volumes"]]
    assert any(target == spool and source in data["volumes"] for source, target, *_ in mounts)
    assert web["environment"]["SPOOL_DIR"] == spool  # a .env's SPOOL_DIR cannot move it off


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


def settings_read() -> set[str]:
    """The variables bot/config.py reads."""
    names = set(re.findall(r'\bget\("([A-Z_]+)"\)', (ROOT / "bot/config.py").read_text()))
    assert {"DATABASE_URL", "SLACK_BOT_TOKEN", "TOKEN_ENCRYPTION_KEY"} <= names
    return names


def interpolate(value: str, variables: dict[str, str]) -> str:
    """docker compose's `${NAME}`, `${NAME:-default}` and `${NAME-default}` in a value."""
    def one(match: re.Match[str]) -> str:
        name, dash, default = match.group(1), match.group(2), match.group(3) or ""
        if dash == ":-":
            return variables.get(name) or default
        if dash == "-":
            return variables.get(name, default)
        return variables.get(name, "")

    value = str(value)
    assert "$" not in re.sub(r"\$\{([A-Z_]+)(:-|-)?([^}]*)\}", "", value), value
    return re.sub(r"\$\{([A-Z_]+)(:-|-)?([^}]*)\}", one, value)


def compose_environment(service: dict, dotenv: dict[str, str]) -> dict[str, str]:
    """What `docker compose up` hands the service's process, when .env holds `dotenv` and
    the shell sets nothing: the env_file's variables, then `environment`'s over them (its
    values interpolated from .env), as Compose does."""
    env_files = service.get("env_file", [])
    env_files = [env_files] if isinstance(env_files, str | dict) else env_files
    reads_dotenv = False
    for entry in env_files:
        if isinstance(entry, dict):
            reads_dotenv |= entry["path"] == ".env"
            # Without .env (a deploy that sets everything in the shell) it still starts.
            assert entry["path"] != ".env" or entry.get("required") is False
        else:
            reads_dotenv |= entry == ".env"
    found = dict(dotenv) if reads_dotenv else {}
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    found.update({name: interpolate(value, dotenv) for name, value in environment.items()})
    return found


def test_every_setting_in_dotenv_reaches_web_and_clock():
    # README: put the variables in .env. Each reaches both processes, but for the three
    # the deployment fixes: its own PostgreSQL, the port it publishes, the spool's volume.
    fixed = {"DATABASE_URL", "PORT", "SPOOL_DIR"}
    names = settings_read()
    dotenv = {name: f"from-dotenv-{name.lower()}" for name in names}
    services = compose()["services"]
    for name in ("web", "clock"):
        environment = compose_environment(services[name], dotenv)
        for setting in sorted(names - fixed):
            assert environment.get(setting) == dotenv[setting], f"{setting} never reaches {name}"
        url = environment["DATABASE_URL"]
        assert url.startswith("postgresql://") and "@db:5432/" in url
        assert environment["PORT"] == "3000"
        assert environment["SPOOL_DIR"] == image_env()["SPOOL_DIR"]
