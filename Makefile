# Every target installs what it needs: `make mock` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
SIZE ?= 10000
DURATION ?= 10
BASE_URL ?=
API_KEY ?=

.DEFAULT_GOAL := help
.PHONY: help install test lint mock contract bench clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project (idempotent)

test: $(STAMP) ## Run the unit tests and the contract suite against the in-process mock
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

lint: $(STAMP) ## Ruff and strict mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

mock: $(STAMP) ## Start the mock on http://127.0.0.1:$(PORT) (PORT=... to change)
	$(BIN)/rotor-mock serve --port $(PORT)

contract: $(STAMP) ## Check a live server: make contract BASE_URL=https://... API_KEY=... [ARGS=...]
	@test -n "$(BASE_URL)" || { echo "usage: make contract BASE_URL=https://... API_KEY=... [ARGS='--strict']"; exit 2; }
	@ROTOR_API_KEY="$(API_KEY)" $(BIN)/python -m pytest contract_tests -p no:cacheprovider --base-url "$(BASE_URL)" $(ARGS)

bench: $(STAMP) ## Benchmark the mock beside WireMock (SIZE=1000000 for a million leads, DURATION=s)
	bash bench/setup.sh
	$(BIN)/python bench/run.py --size $(SIZE) --duration $(DURATION)

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
