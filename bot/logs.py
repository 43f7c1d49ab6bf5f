"""Logging set-up. Payloads (what people wrote) are never logged at INFO or above."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    if logging.getLogger().handlers:
        return
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
