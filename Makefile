# `make run` and `make test` work on a fresh machine: each builds .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench lock clean

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
	# Four workers on two cores (most tests wait on HTTP, processes and the database);
	# worksteal: a worker that runs out takes tests queued on a busy one.
	$(BIN)/python -m pytest -n 4 --dist worksteal

bench: $(BIN)/.installed
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/rotation_tick.py
	$(BIN)/python bench/reaction_events.py

# requirements.txt: the lock Heroku's Python buildpack and the Dockerfile install from,
# every package pinned with its hashes, for the Python in .python-version; with the build
# backend pyproject.toml names (`[build-system] requires`, on standard input), which the
# Dockerfile builds the package with.
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet uv
	$(BIN)/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')" \
	| $(BIN)/uv pip compile pyproject.toml - --extra postgres --universal --generate-hashes \
		--python-version $$(cat .python-version) --custom-compile-command "make lock" \
		--quiet -o requirements.txt

clean:
	rm -rf $(VENV) *.egg-info
