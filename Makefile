# `make run` and `make test` work on a fresh machine: each builds .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgres,dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m bot

test: $(BIN)/.installed
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/rotation_tick.py
	$(BIN)/python bench/reaction_events.py

clean:
	rm -rf $(VENV) *.egg-info
