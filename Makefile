# certvc — the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Test processes (pytest-xdist): one per core; TEST_WORKERS=0 runs the suite in this process.
TEST_WORKERS ?= auto
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench bench-memory clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("certvc needs Python 3.11+") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	rm -rf certvc.egg-info  # a stale copy beside the sources would shadow the installed metadata
	touch $(STAMP)

install: $(STAMP)

# `make run`: a development instance (SQLite in ./instance, development keys, a demo body and
# scheme; `certvc init` is idempotent) served with the verifier pages on 127.0.0.1:8000.
run: install
	$(BIN)/certvc init --dev
	$(BIN)/certvc serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/run.py

# Resident memory and cache sizes over 100,000 distinct signatures (issue 4: memory stays flat).
bench-memory: install
	$(BIN)/python bench/memory.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/interop/js/node_modules
