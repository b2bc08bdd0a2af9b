# Kluis — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest's exit code 5 means "no tests ran": that must never pass silently.
PYTEST := $(BIN)/python -m pytest

.PHONY: run test test-postgres lint format install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev,bench]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kluis db upgrade
	$(BIN)/kluis serve

test: $(STAMP)
	$(PYTEST) -n auto --dist loadgroup -p no:cacheprovider tests

test-postgres: $(STAMP)
	KLUIS_TEST_DATABASE_URL=$${KLUIS_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	  $(PYTEST) -n auto --dist loadgroup -p no:cacheprovider tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core keys adapters audit consent identity attestations rights service

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
