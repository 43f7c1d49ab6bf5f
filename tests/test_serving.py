"""Serving: what each web worker does once its app is loaded, and what a start logs."""

from __future__ import annotations

import re

import pytest

from tests.kit.processes import Process


@pytest.mark.parametrize("kind", ["web", "bot"])
def test_each_worker_keeps_what_it_loaded_out_of_garbage_collection(
        kind, database_url, fake_slack, tmp_path):
    """A full garbage collection over everything loaded at start paused every request in
    the worker for 50-90 ms; once frozen, it looks only at what requests left behind."""
    process = Process(kind, database_url, fake_slack.url, tmp_path).start()
    try:
        frozen = [int(n) for n in re.findall(r"worker \d+ ready \((\d+) objects from its "
                                              r"start kept out of garbage collection\)",
                                              process.output())]
    finally:
        process.stop()
    assert frozen and all(n > 50_000 for n in frozen), process.output()


def test_a_clean_start_warns_of_nothing(database_url, fake_slack, tmp_path):
    """The Procfile's web process with SLACK_BOT_TOKEN set, as the README says: a warning
    at every start would send people looking for a fault that is not there."""
    process = Process("web", database_url, fake_slack.url, tmp_path).start()
    try:
        answer = process.slack.command("win the token is used")
        fake_slack.wait_for("chat.postMessage")
    finally:
        process.stop()
    assert "Saved your win" in answer.text
    assert not [line for line in process.output().splitlines()
                if "WARNING" in line or "ERROR" in line], process.output()
