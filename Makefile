# berth: deploy a Flask app and its Redis onto one Docker host.
# Every target is listed by `make help`, from the `## ` text on its line.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)

VERSION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)

.PHONY: help
help: ## Show this list of targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- Development environment -------------------------------------------------

.PHONY: setup
setup: $(VENV)/.installed ## Create .venv with the pinned tools and the app (editable).

$(VENV)/.installed: requirements.txt constraints.txt app/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -r requirements.txt -e 'app[test]'
	touch $@

.PHONY: lock
lock: ## Re-pin constraints.txt from a fresh resolve of requirements.txt.
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.txt -e 'app[test]'
	.lock-venv/bin/pip freeze --exclude-editable | sed '/^-e /d' > constraints.txt
	rm -rf .lock-venv

# --- Tests -------------------------------------------------------------------

.PHONY: test
test: lint test-app ## Run every linter and test suite the project has.

.PHONY: lint
lint: setup ## Lint Python (ruff).
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: test-app
test-app: setup ## Unit and Redis integration tests of the app, with coverage.
	cd app && ../$(BIN)/pytest
