# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app directory
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-fast test-postgres lint bench relevance loadtest lighthouse wrk install install-test browser clean-instance

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# Bootstrap's CSS trimmed to the classes the templates use (generated, not committed).
install: $(VENV)/.installed
	@$(BIN)/python scripts/trim_bootstrap.py >/dev/null
install-test: $(VENV)/.installed-test
	@$(BIN)/python scripts/trim_bootstrap.py >/dev/null

instance/config.py:
	mkdir -p instance
	umask 077 && $(BIN)/python -c "import secrets; print('SECRET_KEY = %r' % secrets.token_hex(32))" > $@
	@echo "Wrote a random SECRET_KEY to $@"

SEED_ARGS ?=
WEB_CONCURRENCY ?= 2

# The web server (gunicorn, gunicorn.conf.py) and the job worker (`flask worker`:
# mail delivery, search outbox drain, daily jobs) together; Ctrl-C stops both.
run: install instance/config.py
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty $(SEED_ARGS)
	$(FLASK) queue-risk --stale-minutes 30
	-$(FLASK) search rebuild 2>/dev/null || true
	@echo "Serving on http://$(HOST):$(PORT) with a job worker  (Ctrl-C stops both)"
	@$(FLASK) worker & worker=$$!; \
	  trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	  trap 'exit 130' INT TERM; \
	  WEB_CONCURRENCY=$(WEB_CONCURRENCY) $(BIN)/gunicorn -c gunicorn.conf.py \
	    --bind $(HOST):$(PORT) wsgi:app

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
	$(BIN)/ruff check directory tests scripts
	$(BIN)/ruff format --check directory tests benchmarks scripts wsgi.py
	$(BIN)/python scripts/check_complexity.py
	$(BIN)/python scripts/check_dead_code.py


# wrk from Debian, installed once when missing (like Chromium for the browser tests).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for the benchmarks..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

bench: install-test wrk
	$(BIN)/python -m benchmarks.run

# Lighthouse from npm (pinned: 12.x runs on Debian's Node 20) on Debian's Chromium.
LIGHTHOUSE_RUNS ?= 1
lighthouse: install-test browser
	@test -x .lighthouse/node_modules/.bin/lighthouse || { mkdir -p .lighthouse && cd .lighthouse && \
	  echo '{"private": true}' > package.json && npm i -E lighthouse@12.2.3 --no-audit --no-fund >/dev/null; }
	LIGHTHOUSE_RUNS=$(LIGHTHOUSE_RUNS) $(BIN)/python -m benchmarks.lighthouse

# Mixed load and faults against gunicorn + the job worker (benchmarks/loadtest.py).
# LOADTEST_ARGS="--seconds 20 --faults all"; PostgreSQL/Redis via DIRECTORY_* variables.
LOADTEST_ARGS ?= --seconds 20 --faults all
loadtest: install-test
	$(BIN)/python -m benchmarks.loadtest $(LOADTEST_ARGS)

# The judged relevance set over the demo data: recall and nDCG@10, and any failures.
relevance: install-test
	$(BIN)/python -m benchmarks.relevance
