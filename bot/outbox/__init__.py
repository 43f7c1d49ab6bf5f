"""Slack out, beside Slack in (bot/listeners): the worker thread, the delivery core that
claims, paces, dispatches and records, the retry rules, the per-channel pacer, the outbox
table's claims and outcomes, and one sender per Slack surface (senders/)."""
