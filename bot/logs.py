"""Logging set-up. Payloads (what people wrote) are never logged at INFO or above."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    if logging.getLogger().handlers:
        return
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run of every job at INFO: twice a minute, saying nothing.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
