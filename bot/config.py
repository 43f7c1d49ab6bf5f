"""Settings: the only place that reads the environment and `.env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite:///debrief.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class MissingCredentials(Exception):
    """The variables needed for the chosen mode are not set."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        names = ", ".join(missing)
        super().__init__(
            f"Debrief cannot start: {names} not set.\n"
            "Create the Slack app from manifest.yml (api.slack.com/apps -> Create New App ->"
            " From a manifest),\nthen put the values in the environment or in a .env file."
            " See README.md."
        )


class BadSetting(MissingCredentials):
    """A variable is set to something the bot cannot use."""

    def __init__(self, message: str):
        self.missing = []
        Exception.__init__(self, message)


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000
    client_id: str | None = None
    client_secret: str | None = None
    log_level: str = "INFO"
    # "json": one JSON object a line (bot/logs.py); anything else: plain text.
    log_format: str = "text"
    # Seconds between outbox retries grow from this base (tests make it small).
    outbox_retry_base: float = 2.0
    # Where events wait while the database is down (bot/spool.py).
    spool_dir: str = "debrief-spool"
    # Days an uninstalled workspace's data is kept, so a reinstall finds it again.
    uninstall_retention_days: int = 30
    # Fernet keys for the tokens at rest, newest first; empty: stored as Slack gave them.
    token_encryption_keys: tuple[str, ...] = ()

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def missing(self, *, serving: bool = True, http: bool = False) -> list[str]:
        """Names of the variables the chosen mode needs but does not have.

        `serving=False` is the clock: it sends to Slack but receives nothing. `http`: an
        HTTP app is being served (the Procfile's web), which checks every request's
        signature even when SLACK_APP_TOKEN is set: without the secret it is not served."""
        missing = []
        if not self.oauth and not self.bot_token:
            missing.append("SLACK_BOT_TOKEN")
        if serving and (http or not self.socket_mode) and not self.signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        return missing

    def require_credentials(self, *, serving: bool = True, http: bool = False) -> None:
        missing = self.missing(serving=serving, http=http)
        if missing:
            raise MissingCredentials(missing)
        for key in self.token_encryption_keys:
            try:
                Fernet(key)
            except ValueError:
                raise BadSetting(
                    "Debrief cannot start: TOKEN_ENCRYPTION_KEY holds something that is not a"
                    " Fernet key.\nMake one with `python -m bot new-token-key`; several keys"
                    " are separated by commas, the newest first. See README.md.") from None


def normalise_database_url(url: str) -> str:
    """Heroku hands out `postgres://`; SQLAlchemy wants a driver name."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env"
) -> Settings:
    """Read settings from `.env` (if present) overlaid by the environment."""
    values: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not api_url.endswith("/"):
        api_url += "/"
    return Settings(
        bot_token=get("SLACK_BOT_TOKEN"),
        signing_secret=get("SLACK_SIGNING_SECRET"),
        app_token=get("SLACK_APP_TOKEN"),
        database_url=normalise_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        slack_api_url=api_url,
        port=int(get("PORT") or 3000),
        client_id=get("SLACK_CLIENT_ID"),
        client_secret=get("SLACK_CLIENT_SECRET"),
        log_level=(get("LOG_LEVEL") or "INFO").upper(),
        spool_dir=get("SPOOL_DIR") or "debrief-spool",
        uninstall_retention_days=int(get("UNINSTALL_RETENTION_DAYS") or 30),
        token_encryption_keys=tuple(
            key.strip() for key in (get("TOKEN_ENCRYPTION_KEY") or "").split(",") if key.strip()),
        log_format=(get("LOG_FORMAT") or "text").lower(),
    )
