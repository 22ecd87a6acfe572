# ipplan — `make run` serves the demo on http://127.0.0.1:8000, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python >= 3.12 found: an explicit PYTHON=..., then pyenv's installs, then PATH.
PYTHON ?= $(shell for c in $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) \
                        $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) \
                        python3.14 python3.13 python3.12 python3; do \
                    if $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
                      command -v $$c; break; fi; done)

.PHONY: help venv run setup passwords test lint bench messages clean-db

help:
	@echo "make run    set up, migrate, import the seed plans, create demo users, serve on http://$(HOST):$(PORT)"
	@echo "make passwords  new passwords for the demo accounts (printed once)"
	@echo "make test   the whole test suite"
	@echo "make bench  benchmarks (results in bench/RESULTS.md)"
	@echo "make lint   ruff"

$(VENV)/.synced: pyproject.toml uv.lock
	@if [ -z "$(PYTHON)" ]; then \
	  echo "ipplan needs Python 3.12 or newer, and none was found (looked in ~/.pyenv/versions and PATH)."; \
	  echo "Install one (e.g. 'pyenv install 3.13') or pass PYTHON=/path/to/python3.12."; exit 1; fi
	@if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  echo "Creating $(VENV) with $(PYTHON)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); fi
	@$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(VENV)/bin/uv sync --frozen --quiet --python $(PY)
	@touch $@

venv: $(VENV)/.synced

# Compiled translations are committed; rebuild them when msgfmt is available and a .po changed.
messages: venv
	@if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=.venv -v0; fi

setup: venv
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py setup_demo
	$(PY) manage.py send_reminders

passwords: venv
	$(PY) manage.py setup_demo --reset-passwords

run: setup
	@echo "Serving http://$(HOST):$(PORT)/  (Ctrl-C to stop; Celery runs eagerly without REDIS_URL)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Benchmarks run on PostgreSQL (the database is created when missing); BENCH_DATABASE_URL= (empty) for SQLite.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ipplan_bench

bench: venv
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/run.py

clean-db:
	rm -f var/ipplan.sqlite3 var/ipplan.sqlite3-wal var/ipplan.sqlite3-shm
