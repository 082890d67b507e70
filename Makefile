# The two commands a newcomer needs: `make run` and `make test` (ruff, mypy, then pytest; the first failure stops it).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest processes of `make test` (pytest-xdist; each test file runs whole in one of them): the suite takes about
# 5 minutes on 2 cores this way, 7 in one process. TEST_PROCESSES=0 runs it in this process.
TEST_PROCESSES ?= 2

.PHONY: run test lint typecheck install install-test conformance bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet ".[test]"

run: install
	$(BIN)/evidencemap serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile

lint: install-test
	$(BIN)/python -m ruff check src tests benchmarks

# Strict type checking of src; the settings are in pyproject.toml's [tool.mypy].
typecheck: install-test
	$(BIN)/python -m mypy

conformance: install-test
	bash scripts/sparql-conformance.sh

# Every benchmark script in benchmarks/ (REST first), printing its figures; not part of `make test` (docs/benchmarks.md).
bench: install
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache .hypothesis
