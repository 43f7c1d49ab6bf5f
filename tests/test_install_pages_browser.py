"""The install pages as a person sees them, in headless Chromium (Debian's `chromium`): the
rendered text, and a screenshot that shows the page's colours (the purple "Add to Slack"
button, the green mark of success, the red one of failure). Skipped when there is no
Chromium, but not under CI (.ci/run sets CI and installs Chromium): there it fails."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.kit.bot_server import BotServer
from tests.kit.workspaces import oauth_settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Skipped on a machine without it; never in CI (CI set, as .ci/run does).
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="no chromium (apt-get install chromium)")
WIDTH, HEIGHT = 720, 600  # small: the PNG is decoded here, in Python
PURPLE, GREEN, RED = (0x4A, 0x15, 0x4B), (0x2E, 0xB6, 0x7D), (0xE0, 0x1E, 0x5A)


class Chromium:
    """Headless Chromium with one profile, so the cookie a page sets is sent next time."""

    def __init__(self, profile: Path):
        self.flags = [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking", "--disable-component-update",
                      "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}"]

    def dom(self, url: str) -> str:
        done = subprocess.run([*self.flags, "--dump-dom", url], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def screenshot(self, url: str, path: Path) -> Path:
        done = subprocess.run([*self.flags, f"--screenshot={path}",
                               f"--window-size={WIDTH},{HEIGHT}", url],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and path.exists(), done.stderr[-2000:]
        return path


def seen_text(dom: str) -> str:
    """The words on the rendered page (styles and markup left out)."""
    body = re.sub(r"<(style|head)[^>]*>.*?</\1>", " ", dom, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def pixels(png: Path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * step
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up, corner = previous[x], previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else
                                      up if pb <= pc else corner)) & 255
        rows.append(line)
        previous = line
    found = [tuple(row[x:x + 3]) for row in rows for x in range(0, stride, step)]
    return width, height, found  # type: ignore[return-value]


def share_of(colour: tuple[int, int, int], found: list[tuple[int, int, int]]) -> float:
    near = sum(1 for p in found if all(abs(a - b) <= 6 for a, b in zip(p, colour, strict=True)))
    return near / len(found)


@pytest.fixture
def oauth_bot(sqlite_template, tmp_path, fake_slack):
    """On SQLite only: what a page looks like does not depend on the database."""
    shutil.copy(sqlite_template, tmp_path / "pages.db")
    server = BotServer(oauth_settings(f"sqlite:///{tmp_path / 'pages.db'}", fake_slack.url))
    yield server
    server.stop()


def test_the_install_pages_in_a_browser(oauth_bot, fake_slack, tmp_path):
    browser = Chromium(tmp_path / "profile")

    # "Add to Slack", as a person sees it.
    shot = browser.screenshot(oauth_bot.url + "/slack/install", tmp_path / "install.png")
    width, height, found = pixels(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert 10_000 < shot.stat().st_size < 2_000_000
    assert share_of(PURPLE, found) > 0.005  # the button is there, in its colour
    assert share_of((255, 255, 255), found) > 0.2  # the white card
    dom = browser.dom(oauth_bot.url + "/slack/install")  # (a new state, in the cookie too)
    words = seen_text(dom)
    assert "Learn from your work, together" in words and "Add to Slack" in words
    link = unescape(re.search(r'id="add-to-slack" href="([^"]+)"', dom).group(1))
    assert link.startswith("https://slack.com/oauth/v2/authorize?state=")
    state = re.search(r"state=([^&]+)", link).group(1)

    # Slack sends the browser back with a code: installed. (The same browser: its cookie.)
    fake_slack.install_code("code-1", "T_ACME", team_name="Acme")
    back = oauth_bot.url + "/slack/oauth_redirect?" + urlencode({"code": "code-1",
                                                                 "state": state})
    words = seen_text(browser.dom(back))
    assert "Debrief is installed in Acme" in words and "Open Debrief in Slack" in words

    # Installed, as a person sees it: the green mark and the purple way into Slack on the
    # white card, nothing red. (Another install in the same browser: that state is spent.)
    dom = browser.dom(oauth_bot.url + "/slack/install")
    second = re.search(r"state=([^&\"]+)", unescape(dom)).group(1)
    fake_slack.install_code("code-3", "T_THIRD", team_name="Third")
    shot = browser.screenshot(oauth_bot.url + "/slack/oauth_redirect?" + urlencode(
        {"code": "code-3", "state": second}), tmp_path / "installed.png")
    width, height, found = pixels(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert share_of(GREEN, found) > 0.0005  # the green mark
    assert share_of(PURPLE, found) > 0.005  # "Open Debrief in Slack"
    assert share_of((255, 255, 255), found) > 0.2  # the white card
    assert share_of(RED, found) == 0  # no mark of failure

    # Cancelled in Slack: said plainly, with a way to start again.
    cancelled = oauth_bot.url + "/slack/oauth_redirect?error=access_denied&state=x"
    words = seen_text(browser.dom(cancelled))
    assert "Debrief was not installed" in words and "Start again" in words
    assert "Traceback" not in words and "Oops" not in words
    shot = browser.screenshot(cancelled, tmp_path / "cancelled.png")
    assert share_of(RED, pixels(shot)[2]) > 0.0005  # the red mark

    fake_slack.install_code("code-2", "T_OTHER", team_name="Other")
    reused = oauth_bot.url + "/slack/oauth_redirect?" + urlencode({"code": "code-2",
                                                                   "state": state})
    words = seen_text(browser.dom(reused))  # the state is spent
    assert "This install link has expired" in words and "installed in" not in words
