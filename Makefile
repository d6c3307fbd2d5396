# One task runner: CI calls `make test`; a new user calls `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-unit lint clean asyncapi

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install  ## Run the tour on an embedded SQLite store, no services needed.
	$(BIN)/perfledger demo

test: install  ## The whole suite; the harness starts the services the tests need.
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest tests/unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

asyncapi: install  ## The AsyncAPI document of the Kafka topics, into docs/.
	$(BIN)/faststream docs gen --factory consumers.asyncapi:app -o docs/asyncapi.json

.PHONY: bench bench-quick

bench: install  ## Every benchmark at full size (long): bench/results/*.json; see docs/performance.md.
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: install  ## Smoke run of every benchmark at tiny sizes; asserts nothing about time.
	$(BIN)/python -m bench --quick $(BENCH_ARGS)
