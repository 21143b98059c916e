# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app directory
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-fast test-postgres lint bench relevance install install-test browser clean-instance

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

instance/config.py:
	mkdir -p instance
	umask 077 && $(BIN)/python -c "import secrets; print('SECRET_KEY = %r' % secrets.token_hex(32))" > $@
	@echo "Wrote a random SECRET_KEY to $@"

run: install instance/config.py
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	-$(FLASK) search rebuild 2>/dev/null || true
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - wsgi:app

# Debian's Chromium drives the browser tests (Playwright's own browser download
# cannot work offline); installed once when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: install-test browser
	$(BIN)/python -m pytest -n 2 -q

test-fast: install-test
	$(BIN)/python -m pytest -q -m "not browser"

test-postgres: install-test browser
	DIRECTORY_TEST_DATABASE_URI=$${DIRECTORY_TEST_DATABASE_URI:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	  $(BIN)/python -m pytest -n 2 -q

lint: install-test
	$(BIN)/ruff check directory tests
	$(BIN)/ruff format --check directory tests benchmarks wsgi.py


bench: install-test
	$(BIN)/python -m benchmarks.run

# The judged relevance set over the demo data: recall and nDCG@10, and any failures.
relevance: install-test
	$(BIN)/python -m benchmarks.relevance
