# Fleetwatch. `make demo` runs the main job on embedded defaults; `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# The suite runs on the local PostgreSQL as two roles (see README, "Database roles");
# export DATABASE_URL / DATABASE_OWNER_URL to point it elsewhere.
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_SUPERUSER ?= postgres
TEST_DATABASE_URL ?= postgres://fleetwatch@$(PG_HOST):$(PG_PORT)/fleetwatch
TEST_DATABASE_OWNER_URL ?= postgres://fleetwatch_owner@$(PG_HOST):$(PG_PORT)/fleetwatch
PYTEST_ARGS ?=

.PHONY: help venv alibi-env test demo serve worker beat lint migrate db-roles bench bench-ledger bench-stats bench-ingest bench-sweep

help:
	@echo "make demo    the main job on embedded defaults (SQLite, in-process checks, local storage)"
	@echo "make test    create .venv if missing and run the whole test suite on PostgreSQL"
	@echo "make serve | worker | beat | lint | bench | bench-ledger | bench-stats | bench-sweep | bench-ingest"
	@echo "make alibi-env   alibi-detect in its own environment (.venv-alibi; numpy < 2, BSL 1.1)"

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	# constraints.txt is what CI tested; torch==2.13.0 is the CPU build on the machine's disk.
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# alibi-detect in an environment of its own: it holds numpy below 2 and is under the Business
# Source License, so it never enters .venv (see README, "alibi-detect"). Used to cross-check our
# MMD; nothing in .venv imports it.
ALIBI_VENV := .venv-alibi
alibi-env: $(ALIBI_VENV)/.installed-stamp

$(ALIBI_VENV)/.installed-stamp: docker/alibi-requirements.txt
	test -x $(ALIBI_VENV)/bin/python || $(PYTHON) -m venv $(ALIBI_VENV)
	$(ALIBI_VENV)/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	# torch==2.13.0 first and exactly: the CPU build on the machine's disk, never PyPI's CUDA build.
	$(ALIBI_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(ALIBI_VENV)/bin/python -m pip install --quiet -r docker/alibi-requirements.txt
	touch $@

db-roles:
	@PG_HOST=$(PG_HOST) PG_PORT=$(PG_PORT) PG_SUPERUSER=$(PG_SUPERUSER) bash .ci/postgres-roles

test: venv
	@if DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(MAKE) --no-print-directory -s db-roles; then \
	    export DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)}; \
	    export DATABASE_OWNER_URL=$${DATABASE_OWNER_URL:-$(TEST_DATABASE_OWNER_URL)}; \
	else \
	    echo "PostgreSQL is not reachable: running on SQLite; PostgreSQL tests will be skipped"; \
	fi; \
	$(PY) -m pytest $(PYTEST_ARGS)

migrate: venv
	@if [ -n "$$DATABASE_OWNER_URL" ]; then $(PY) manage.py migrate --database owner; \
	else $(PY) manage.py migrate; fi

# Logs at WARNING so the demo's own summary is readable; LOG_LEVEL=INFO shows per-run timings.
demo: venv migrate
	$(PY) manage.py healthcheck
	LOG_LEVEL=$${LOG_LEVEL:-WARNING} $(PY) manage.py demo

serve: migrate
	$(PY) manage.py runserver 127.0.0.1:8000

worker: venv
	$(VENV)/bin/celery -A fleetwatch worker --queues celery,sweep,checks --loglevel INFO

beat: venv
	$(VENV)/bin/celery -A fleetwatch beat --loglevel INFO

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: bench-ledger bench-stats bench-ingest bench-sweep

bench-ledger: venv db-roles
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} DATABASE_OWNER_URL=$${DATABASE_OWNER_URL:-$(TEST_DATABASE_OWNER_URL)} \
	    $(PY) benchmarks/bench_ledger.py

bench-stats: venv
	$(PY) benchmarks/bench_stats.py

# A nightly sweep of 200 models on PostgreSQL and Redis (DB 14) with a 2-process Celery worker.
bench-sweep: venv db-roles
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} DATABASE_OWNER_URL=$${DATABASE_OWNER_URL:-$(TEST_DATABASE_OWNER_URL)} \
	    $(PY) benchmarks/bench_sweep.py

bench-ingest: venv db-roles
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} DATABASE_OWNER_URL=$${DATABASE_OWNER_URL:-$(TEST_DATABASE_OWNER_URL)} \
	    $(PY) benchmarks/bench_ingest.py
