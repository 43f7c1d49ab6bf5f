"""Many workspaces: the bot in OAuth mode, and installs done the way a person does them
(the "Add to Slack" page, Slack's authorize page played by the fake, the way back)."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from sqlalchemy import select

from bot.config import Settings
from bot.db.models import BOTS_TABLE, Base
from tests.kit.bot_server import bot_settings
from tests.kit.fake_slack import FakeSlack

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret"


def oauth_settings(database_url: str, slack_api_url: str, **overrides: Any) -> Settings:
    """The bot installed through OAuth (no SLACK_BOT_TOKEN)."""
    return bot_settings(database_url, slack_api_url, bot_token=None, client_id=CLIENT_ID,
                        client_secret=CLIENT_SECRET, **overrides)


@dataclass
class Page:
    status: int
    html: str
    headers: dict[str, str]

    @property
    def text(self) -> str:
        """Roughly what a person reads: the page without its markup and styles."""
        body = re.sub(r"<(style|head)[^>]*>.*?</\1>", " ", self.html, flags=re.S)
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())

    def link(self, element_id: str) -> str:
        found = re.search(rf'id="{element_id}" href="([^"]+)"', self.html) or \
            re.search(rf'href="([^"]+)"[^>]*id="{element_id}"', self.html)
        assert found, f"no link #{element_id} on the page"
        return unescape(found.group(1))


@dataclass
class Browser:
    """A person's browser: it keeps the cookies the bot sets (the install's state)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def get(self, path: str) -> Page:
        request = urllib.request.Request(self.base + path)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                page = Page(answer.status, answer.read().decode(),
                            {k.lower(): v for k, v in answer.headers.items()})
                cookies = answer.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as error:
            page = Page(error.code, error.read().decode(),
                        {k.lower(): v for k, v in error.headers.items()})
            cookies = error.headers.get_all("Set-Cookie") or []
        for cookie in cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if re.search(r"Max-Age=(-1|0)\b|Expires=Thu, 01 Jan 1970", cookie):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return page


def start_install(base_url: str) -> tuple[Browser, Page, str]:
    """Open "Add to Slack": the browser, the page, and the state Slack will hand back."""
    browser = Browser(base_url)
    page = browser.get("/slack/install")
    authorize = urlparse(page.link("add-to-slack"))
    return browser, page, parse_qs(authorize.query)["state"][0]


def install(bot: Any, fake_slack: FakeSlack, team_id: str | None, *,
            code: str | None = None, **how: Any) -> Page:
    """Install the app the way a person does; the success page. `how`: as
    FakeSlack.install_code (enterprise_id, org_install, rotating, team_name…)."""
    browser, _, state = start_install(bot.url)
    code = code or f"code-{team_id or how.get('enterprise_id')}"
    fake_slack.install_code(code, team_id, **how)
    page = browser.get("/slack/oauth_redirect?" + urlencode({"code": code, "state": state}))
    assert page.status == 200, page.text
    return page


def token_of(db: Any, team_id: str | None, enterprise_id: str | None = None) -> str:
    """The bot token installed for a workspace (or an org, team None), as the bot reads it."""
    store = db_store(db)
    bot = store.find_bot(enterprise_id=enterprise_id, team_id=team_id,
                         is_enterprise_install=team_id is None)
    assert bot is not None and bot.bot_token, f"no token for {team_id}"
    return bot.bot_token


def db_store(db: Any, settings: Settings | None = None) -> Any:
    from bot.tokens import Installations

    return Installations(settings or Settings(client_id=CLIENT_ID), db.engine)


def stored_tokens(db: Any) -> list[str]:
    """The token columns as they lie in the database."""
    bots = Base.metadata.tables[BOTS_TABLE]
    with db.engine.connect() as connection:
        return [t for t in connection.execute(select(bots.c.bot_token)).scalars() if t]
