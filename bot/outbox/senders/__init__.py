"""One sender per Slack surface; each knows its outbox actions from end to end."""

from __future__ import annotations

from bot.outbox.sender import Sender
from bot.outbox.senders.capture import CaptureSender
from bot.outbox.senders.cards import CardSender
from bot.outbox.senders.checkback import CheckBackSender
from bot.outbox.senders.digest import DigestSender
from bot.outbox.senders.entries import EntrySender
from bot.outbox.senders.export import ExportSender
from bot.outbox.senders.health import HealthSender
from bot.outbox.senders.home import HomeSender
from bot.outbox.senders.notices import NoticeSender
from bot.outbox.senders.nudges import NudgeSender
from bot.outbox.senders.rotation import RotationSender


def every_sender() -> list[Sender]:
    """One of each: `bot.outbox.sender.dispatch` checks they cover every action once."""
    return [EntrySender(), CardSender(), RotationSender(), HomeSender(), DigestSender(),
            ExportSender(), NoticeSender(), NudgeSender(), CaptureSender(), CheckBackSender(),
            HealthSender()]
