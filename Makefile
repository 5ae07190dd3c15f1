# FICTRA Ops. `make run` and `make test` set everything up on a fresh clone.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ANVIL := node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil

.PHONY: setup run test lint typecheck pytest bench contracts clean lock browser-deps

setup: .stamp-venv .stamp-node

# Python: a venv inside the repo, exact pins from requirements.lock, the package in editable mode.
.stamp-venv: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

# npm: Anvil, solc-js, OpenZeppelin, Uniswap V2 — exactly as package-lock.json says.
.stamp-node: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: setup
	$(BIN)/fictra up

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

pytest: setup browser-deps
	$(BIN)/pytest

# Debian packages the tests use: Chromium (tests/browser drive /usr/bin/chromium with Playwright), Pango
# (WeasyPrint renders incident reports to PDF), poppler-utils (tests convert a PDF page to PNG) and the
# PostgreSQL client tools (fictra backup uses pg_dump / pg_restore); Alertmanager and Prometheus (interop tests).
browser-deps:
	@missing=""; \
	  test -x /usr/bin/chromium || missing="$$missing chromium"; \
	  test -x /usr/bin/pdftoppm || missing="$$missing poppler-utils"; \
	  test -x /usr/bin/pg_dump || missing="$$missing postgresql-client"; \
	  test -x /usr/bin/prometheus-alertmanager -a -x /usr/bin/promtool || missing="$$missing prometheus-alertmanager prometheus"; \
	  /sbin/ldconfig -p | grep -q 'libpangoft2-1.0.so' || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	  if [ -n "$$missing" ]; then \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	  fi

test: lint typecheck pytest

bench: setup
	@mkdir -p bench/results
	$(BIN)/python -m bench

# Rebuild the ABIs/bytecode shipped in src/fictra/chain/artifacts from contracts/ (needs node_modules).
contracts: .stamp-node
	node scripts/build_contracts.js

# Re-resolve requirements.lock from pyproject.toml (maintainers only).
lock:
	rm -rf /tmp/fictra-lock && $(PY) -m venv /tmp/fictra-lock
	/tmp/fictra-lock/bin/pip install -q -e ".[dev]" && /tmp/fictra-lock/bin/pip freeze --exclude-editable | grep -v '^fictra' > requirements.lock

clean:
	rm -rf $(VENV) node_modules .stamp-* .fictra
