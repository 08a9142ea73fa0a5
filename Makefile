# Pharma MES — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test plant-day install install-dev migrate seed traceability bench load cluster lint format messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	$(BIN)/python manage.py migrate --no-input -v 0

seed: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --no-input -v 0

## make run: the whole system with demo data on http://127.0.0.1:8000 (Ctrl-C stops it)
run: seed
	$(BIN)/python scripts/run_all.py

## make test: the whole suite (on PostgreSQL when DATABASE_URL points there); fails when a requirement
## ID's tests all failed or were skipped, or a marker names an unknown ID (tests/traceability.py)
test: install-dev
	$(BIN)/python -m pytest --traceability-check $(PYTEST_ARGS)

## make plant-day: a whole plant day in Chromium, every role; screenshots (EN + 中文) in test-artifacts/plant-day/
plant-day: install-dev
	$(BIN)/python -m pytest tests/plantday $(PYTEST_ARGS)

## make traceability: run the suite and write docs/traceability.md
traceability: install-dev
	$(BIN)/python -m pytest --traceability docs/traceability.md $(PYTEST_ARGS)

## make bench: benchmarks on PostgreSQL, written to docs/benchmarks.md
bench: install-dev
	$(BIN)/python bench/run.py

## make load: 50 operators + 10 office users on gunicorn/PostgreSQL/Redis for 5 min (bench/load/);
## make load LOAD_ARGS=--capacity: more paced operators step by step until p95 > 300 ms or errors (the knee)
load: install-dev
	$(BIN)/python bench/load/run_load.py $(LOAD_ARGS)

## make cluster: the scaled-out shape on loopback (scripts/cluster.py): PostgreSQL primary + streaming
## replica, two gunicorn nodes behind HAProxy on http://127.0.0.1:8399, Celery worker + beat;
## make cluster CLUSTER_ARGS=stop | status | "drill web-drain" (docs/deployment.md, docs/faults.md)
CLUSTER_ARGS ?= start
cluster: install
	$(BIN)/python scripts/cluster.py $(CLUSTER_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install-dev
	$(BIN)/python scripts/messages.py

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles test-artifacts
