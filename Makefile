# Every target installs what it needs: `make mock` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
HOST ?= 127.0.0.1
SIZE ?= 10000
DURATION ?= 10
BASE_URL ?=
API_KEY ?=

.DEFAULT_GOAL := help
.PHONY: help install lock browser-deps redis-deps test lint mock contract bench interop clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

# Installs exactly what uv.lock holds (the versions the tests last passed with): a new release
# upstream changes nothing here until `make lock` takes it. uv itself is pinned by the lock too.
# Bytecode is compiled once, here, not by every process that imports a module. Its log is shown
# only if it fails.
UV_VERSION = $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' uv.lock)
$(STAMP): pyproject.toml uv.lock setup.py mock_server/engine/state/_tally.c
	$(PYTHON) -m venv $(VENV)
	@echo "Installing the locked versions (uv.lock) into $(VENV) (log: $(VENV)/install.log)"
	@{ $(BIN)/python -m pip install --disable-pip-version-check "uv==$(UV_VERSION)" \
		&& UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --extra dev --compile-bytecode \
			--python $(BIN)/python; } \
		> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	touch $(STAMP)

install: $(STAMP) ## Create .venv with the project and exactly the versions in uv.lock (idempotent)

lock: $(STAMP) ## Take the newest releases pyproject.toml allows into uv.lock (then run make test)
	sed -i.bak "s/^exclude-newer = .*/exclude-newer = \"$$(date -u +%Y-%m-%dT%H:%M:%SZ)\"/" pyproject.toml && rm pyproject.toml.bak
	$(BIN)/uv lock --upgrade
	$(MAKE) install

browser-deps: ## Chromium and chromedriver for the browser tests (Debian's packages; elsewhere says what to install)
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "browser tests: install Chromium and a matching chromedriver (on PATH as chromium and chromedriver) to run them; they are skipped"; fi

redis-deps: ## redis-server for the shared-state tests (Debian's package; elsewhere says what to install)
	@if command -v redis-server >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
		{ apt-get install -y -qq redis-server >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }; }; \
	else echo "shared-state tests: install redis-server (on PATH) to run them; they are skipped"; fi

# Bytecode is written (whatever PYTHONDONTWRITEBYTECODE says): the tests start hundreds of
# Python processes, and without it each one compiles every module it imports again.
test: $(STAMP) browser-deps redis-deps ## Unit, mock, browser and Schemathesis tests; the contract suite in-process
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n 2 -p no:cacheprovider

lint: $(STAMP) ## Ruff, strict mypy, and uv.lock in step with pyproject.toml
	$(BIN)/uv lock --locked --quiet
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# mypy reads the package as it is installed, rotor_leads/*, through links to the rooms.
	@mkdir -p build/typecheck/rotor_leads
	@for room in spec mock_server contract_tests; do ln -sfn ../../../$$room build/typecheck/rotor_leads/$$room; done
	$(BIN)/mypy

mock: $(STAMP) ## Start the mock on http://127.0.0.1:8080 (PORT=..., HOST=0.0.0.0 for the network)
	$(BIN)/rotor-mock serve --host $(HOST) --port $(PORT)

contract: $(STAMP) ## Check a live server: make contract BASE_URL=https://... API_KEY=... [ARGS=...]
	@test -n "$(BASE_URL)" || { echo "usage: make contract BASE_URL=https://... API_KEY=... [ARGS='--strict-contract --report r.json']"; exit 2; }
	@ROTOR_API_KEY="$(API_KEY)" $(BIN)/rotor-contract --base-url "$(BASE_URL)" $(ARGS)

bench: $(STAMP) ## Benchmark the mock beside WireMock (SIZE=1000000 for a million leads, DURATION=s)
	bash bench/setup.sh
	$(BIN)/python -u bench/run.py --size $(SIZE) --duration $(DURATION)

interop: $(STAMP) ## Prism on our spec, our suite against Prism, and clients generated from the spec
	@test -x interop/.cache/node_modules/.bin/openapi-typescript || \
		npm install --prefix interop/.cache --no-audit --no-fund --silent \
			@stoplight/prism-cli@5 openapi-typescript@7 openapi-fetch@0.17 typescript@5
	$(BIN)/python interop/prism.py
	$(BIN)/python interop/clients.py

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
