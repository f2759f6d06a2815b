# Two commands do everything on a fresh machine:
#   make run   — virtualenv, Python and npm dependencies, SQLite database with the demo, server on :5000
#   make test  — the same set-up, then the whole test suite (TEST_DATABASE_URL adds PostgreSQL)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP  := $(VENV)/.stamp-deps
NPM_STAMP := node_modules/.stamp-deps
VENDOR_STAMP := web/static/vendor/.stamp
MO_FILES := $(patsubst %.po,%.mo,$(wildcard web/translations/*/LC_MESSAGES/messages.po))

.PHONY: setup run test lint format bench bench-quick db dist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(PY_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NPM_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR_STAMP): $(NPM_STAMP) tools/vendor_assets.py tools/frontend/properties-panel.js
	$(BIN)/python tools/vendor_assets.py
	touch $@

# Translations: the .po files are committed, the .mo files are built here (Babel's API, no extra tool).
$(MO_FILES): %.mo: %.po $(PY_STAMP) tools/compile_translations.py
	$(BIN)/python tools/compile_translations.py

setup: $(PY_STAMP) $(VENDOR_STAMP) $(MO_FILES)

db: setup
	$(BIN)/guantong init-db
	$(BIN)/guantong deploy
	$(BIN)/guantong demo

run: db
	$(BIN)/guantong serve --host 127.0.0.1 --port 5000

# The suite runs on every core (pytest-xdist: tests handed out one by one, except those marked with one
# xdist_group, which share a costly module fixture and stay together; one PostgreSQL database per
# worker); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: setup
	$(BIN)/python tools/check_browser.py
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Lint: ruff (rules and formatting) and mypy (strict on engine/), configured in pyproject.toml.
# `make format` rewrites in place.
lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(PY_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The offline archive for an intranet (README "Operations: intranet install"): dist/guantong-<version>-offline.tar.gz
dist: setup
	$(BIN)/python tools/build_dist.py

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: setup
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) node_modules web/static/vendor instance/guantong.db* dist
