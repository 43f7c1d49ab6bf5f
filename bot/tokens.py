"""Slack's tokens at rest: slack_sdk's SQLAlchemy installation store, with every token column
sealed with Fernet when TOKEN_ENCRYPTION_KEY is set, and its OAuth state store, whose
states are good once.

Sealing is a column type (`Sealed`) on the store's own tables, so slack_sdk's queries run as
they are. A token stored before a key was set is read as it is (Slack's tokens start with
`xox`), and `rotate_key` seals every token under the newest key: `python -m bot
rotate-token-key` after putting a new key first in TOKEN_ENCRYPTION_KEY (README).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, TypeDecorator

from bot.config import Settings
from bot.db.models import BOTS_TABLE, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE, TOKEN_LENGTH

log = logging.getLogger(__name__)

# Every column of slack_sdk's tables that holds a token.
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
# How long an "Add to Slack" link (its state) stays good.
STATE_SECONDS = 600


class TokenKeyMissing(RuntimeError):
    """A sealed token was read, but no key that opens it is configured."""


class Cipher:
    """Seals and opens tokens with the configured keys (newest first); without keys it
    keeps them as they are."""

    def __init__(self, keys: tuple[str, ...] = ()):
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, token: str | None) -> str | None:
        if token is None or self._fernet is None:
            return token
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        if stored is None or _plain(stored):
            return stored
        if self._fernet is None:
            raise TokenKeyMissing("a Slack token is encrypted but TOKEN_ENCRYPTION_KEY is not set")
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise TokenKeyMissing("no key in TOKEN_ENCRYPTION_KEY opens a stored Slack "
                                  "token") from None

    def reseal(self, stored: str | None) -> str | None:
        """The stored value sealed under the newest key (a token in the clear too)."""
        if stored is None or self._fernet is None:
            return stored
        if _plain(stored):
            return self.seal(stored)
        try:
            return self._fernet.rotate(stored.encode()).decode()
        except InvalidToken:
            raise TokenKeyMissing("no key in TOKEN_ENCRYPTION_KEY opens a stored Slack "
                                  "token: keep the old key after the new one") from None


def _plain(stored: str) -> bool:
    return stored.startswith("xox")  # Slack's tokens: xoxb-, xoxp-, xoxe.xoxb-, xoxe-


class Sealed(TypeDecorator[str]):
    """A token column: sealed on the way in, opened on the way out."""

    impl = sa.String(TOKEN_LENGTH)
    cache_ok = False  # holds a cipher, which is no cache key

    def __init__(self, cipher: Cipher):
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return self.cipher.seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return self.cipher.open(value)


class Installations(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store over our tables, tokens sealed."""

    def __init__(self, settings: Settings, engine: Engine):
        self.cipher = Cipher(settings.token_encryption_keys)
        super().__init__(client_id=settings.client_id or "", engine=engine,
                         bots_table_name=BOTS_TABLE,
                         installations_table_name=INSTALLATIONS_TABLE)
        for table in (self.bots, self.installations):
            for column in table.columns:
                if column.name in TOKEN_COLUMNS:
                    column.type = Sealed(self.cipher)

    def rotate_key(self) -> int:
        """Seal every stored token under the newest key (tokens stored in the clear
        included); how many values changed. Run after putting a new key first."""
        if not self.cipher.enabled:
            raise TokenKeyMissing("set TOKEN_ENCRYPTION_KEY first (the new key first)")
        changed = 0
        with self.engine.begin() as connection:  # all or nothing
            for table in (self.bots, self.installations):
                # The stored text, as it is: a plain view of the same table.
                names = [c.name for c in table.columns if c.name in TOKEN_COLUMNS]
                stored = sa.table(table.name, sa.column("id"), *map(sa.column, names))
                for row in connection.execute(sa.select(stored)).mappings().all():
                    fresh = {name: self.cipher.reseal(row[name]) for name in names
                             if row[name] is not None}
                    if fresh:
                        connection.execute(sa.update(stored)
                                           .where(stored.c.id == row["id"]).values(**fresh))
                        changed += len(fresh)
        return changed


class OAuthStates(SQLAlchemyOAuthStateStore):
    """slack_sdk's SQLAlchemy state store, with a state good exactly once: it is taken by
    one DELETE, so of two callbacks racing with the same state only one wins."""

    def __init__(self, engine: Engine):
        super().__init__(expiration_seconds=STATE_SECONDS, engine=engine,
                         table_name=OAUTH_STATES_TABLE)

    def consume(self, state: str) -> bool:
        if not state:
            return False
        states = self.oauth_states
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.engine.begin() as connection:
            taken = connection.execute(states.delete().where(
                states.c.state == state, states.c.expire_at > now))
        return (taken.rowcount or 0) == 1

    def forget_expired(self) -> int:
        """Delete the states nobody came back with; how many."""
        states = self.oauth_states
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.engine.begin() as connection:
            gone = connection.execute(states.delete().where(states.c.expire_at <= now))
        return max(gone.rowcount or 0, 0)
