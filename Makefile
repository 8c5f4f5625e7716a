# berth: deploy a Flask app and its Redis onto one Docker host.
# Every target is listed by `make help`, from the `## ` text on its line, and
# so is every variable documented on a line `## NAME text`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)

## VERSION      Release to build and deploy (default: images/version.sh - the git short SHA, or <short sha>-dirty-<hash> of uncommitted changes).
# Computed once, and only when not given: the sub-makes are passed it.
ifeq ($(origin VERSION),undefined)
VERSION := $(shell images/version.sh)
DIRTY := $(findstring -dirty-,$(VERSION))
endif
## ANSIBLE_ARGS Extra arguments for every ansible-playbook call, e.g. '--check --diff', -v, '--limit web1', --ask-vault-pass.
ANSIBLE_ARGS ?=

# A user who is not root changes this machine through sudo: Ansible becomes
# root (asking for the password only when `sudo -n` cannot do without one),
# and the image scripts run through sudo when this user cannot reach the
# engine's socket (`docker info` fails). Root runs everything as it is.
NOT_ROOT := $(filter-out 0,$(shell id -u))
BECOME = $(if $(NOT_ROOT),--become$(if $(shell sudo -n true 2>/dev/null && echo yes),, --ask-become-pass))
# The playbooks that take INVENTORY become only for this machine's inventory.
LOCAL_BECOME = $(if $(filter inventory,$(INVENTORY)),$(BECOME))
# sudo resets the environment: the image scripts' own settings go along.
DOCKER_SUDO = $(strip $(if $(NOT_ROOT),$(if $(shell docker info >/dev/null 2>&1 && echo yes),,sudo env \
	$(foreach var,DEBIAN_MIRROR FORCE,$(if $($(var)),$(var)='$($(var))')))))
# $(call say_sudo,DOING): one line saying that DOING this machine uses sudo.
say_sudo = $(if $(NOT_ROOT),@echo 'berth: not root: $(1) this machine with sudo (become)')
# $(call say_docker_sudo,SCRIPT): one line saying that SCRIPT runs through sudo.
say_docker_sudo = $(if $(DOCKER_SUDO),@echo "berth: $$(id -un) cannot reach the Docker engine (docker info fails): running $(1) with sudo")
# $(call say_dirty,DOING): one line saying that DOING builds uncommitted changes.
say_dirty = $(if $(DIRTY),@echo 'berth: uncommitted changes in the working tree: $(1) them as $(VERSION) (commit them for a tag that names a commit)')

.PHONY: help
help: ## Show this list of targets and variables (in colour on a terminal).
	@if [ -t 1 ]; then on='\033[36m' off='\033[0m'; else on= off=; fi; \
	awk -v on="$$on" -v off="$$off" ' \
		BEGIN {FS = ":.*## "} \
		/^[a-zA-Z_-]+:.*## / {printf "  %s%-14s%s %s\n", on, $$1, off, $$2} \
		/^## [A-Z_]+ / {name = $$0; sub(/^## /, "", name); text = name; sub(/ .*/, "", name); \
			sub(/^[A-Z_]+ +/, "", text); vars = vars sprintf("  %s%-14s%s %s\n", on, name, off, text)} \
		END {if (vars != "") printf "\nVariables (make TARGET NAME=value):\n%s", vars}' $(MAKEFILE_LIST)

# --- Development environment -------------------------------------------------

.PHONY: setup
setup: $(VENV)/.installed ## Create .venv with the pinned tools and the app (editable).

$(VENV)/.installed: requirements.txt constraints.txt app/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -r requirements.txt -e 'app[test]'
	touch $@

.PHONY: pin
pin: ## Re-pin constraints.txt from a fresh resolve of requirements.txt.
	rm -rf .pin-venv && $(PYTHON) -m venv .pin-venv
	.pin-venv/bin/pip install --quiet -r requirements.txt -e 'app[test]'
	{ echo '# Exact versions of every Python package berth uses; `make pin` writes it.'; \
	  .pin-venv/bin/pip freeze --exclude-editable | sed '/^-e /d'; } > constraints.txt
	rm -rf .pin-venv

# --- Tests -------------------------------------------------------------------

.PHONY: test
test: lint lint-ansible lint-docs test-roles test-app test-image test-hosts ## Run every linter and test suite the project has.

.PHONY: lint
lint: setup ## Lint Python (ruff).
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# A worker per CPU (pytest-xdist), each test file on one worker: most tests
# wait on an `ansible` process, and a file's fixtures are made once.
.PHONY: test-roles
test-roles: setup ## Unit tests: the task files' Jinja limits, argument specs, the plugins' decisions and modules, the collection built from them, the bench tools.
	$(BIN)/pytest --numprocesses auto --dist loadfile tests/lint tests/roles tests/plugins tests/collection tests/bench

# Role READMEs: aar-doc writes the Role Variables section, between its marker
# lines, from meta/argument_specs.yml with the template roles/README.md.j2;
# --output-mode inject keeps the hand-written text around the markers.
AAR_DOC = $(BIN)/aar-doc --output-template roles/README.md.j2 --output-mode inject

.PHONY: docs
docs: setup ## Regenerate the Role Variables section of every role's README from its argument specs.
	for role in roles/*/; do $(AAR_DOC) "$$role" markdown || exit 1; done

.PHONY: lint-docs
lint-docs: setup ## Fail when a role's README is not what `make docs` writes from its argument specs.
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && mkdir "$$tmp/roles" && stale=0 && \
	for role in roles/*/; do \
		copy=$$tmp/$$role && cp -R "$$role" "$$copy" && $(AAR_DOC) "$$copy" markdown || exit 1; \
		if ! diff -u --label "$${role}README.md" --label "$${role}README.md (make docs)" \
			"$${role}README.md" "$${copy}README.md"; then \
			echo "berth: $${role}README.md is stale: run make docs" >&2; stale=1; \
		fi; \
	done; exit $$stale

.PHONY: test-app
test-app: setup ## Unit and Redis integration tests of the app, with coverage.
	cd app && ../$(BIN)/pytest

# --- Docker engine and Molecule ----------------------------------------------

# Molecule scenarios `make test-molecule` runs, the longest first: the whole
# deploy (registry, new version, Redis restart) and the day-2 verbs;
# upgrades and zero-downtime releases (the previous berth's host upgraded
# under load, redeploy, broken release, uncommitted edits, rollbacks, a
# killed deploy, the deploy lock); an app that is not flaskr, from a
# registry with a password; a domain with a certificate from a real ACME
# server (pebble), and the blog in a real browser; the engine role alone.
SCENARIOS ?= default release own-app https docker
## MOLECULE_JOBS How many Molecule scenarios (and bench-smoke, in make test) run at once (default 2; each has a test host, network and registry of its own).
MOLECULE_JOBS ?= 2
# scenario.sh prints a scenario's output as it goes only when it runs alone.
export MOLECULE_JOBS
## MOLECULE_ALONE Scenarios to run last, by themselves, after the others (default: own-app).
# own-app counts every failed request across 60 reloads of the proxy under
# load: beside another job, a loaded machine failed 15 of 14,452 (502s).
MOLECULE_ALONE ?= own-app

.PHONY: engine
engine: setup ## Install and start a Docker engine on this machine (roles/docker on localhost).
	$(if $(filter 0,$(MAKELEVEL)),$(call say_sudo,installing the engine on))
	$(BIN)/ansible-playbook playbooks/engine.yml $(BECOME) $(ANSIBLE_ARGS)

.PHONY: test-images
test-images: ## Build the images Molecule's scenarios need (test hosts, registry, base images), skipping existing ones.
	molecule/images/build.sh

.PHONY: lint-ansible
lint-ansible: setup ## Lint YAML and Ansible (yamllint, ansible-lint production profile).
	$(BIN)/yamllint .
	$(BIN)/ansible-lint

# Each scenario's output is kept in artifacts/molecule-<scenario>.log, and
# what failed is printed (molecule/scenario.sh). The images are built first,
# once, for all the scenarios that run at once; make runs MOLECULE_JOBS of the
# jobs at a time, in the order given, a new one as soon as one ends.
.PHONY: test-molecule
test-molecule: setup test-images ## Run the Molecule scenarios on containers acting as hosts, MOLECULE_JOBS at once.
	$(MAKE) --no-print-directory -j $(MOLECULE_JOBS) $(addprefix molecule-,$(filter-out $(MOLECULE_ALONE),$(SCENARIOS)))
	$(foreach scenario,$(filter $(MOLECULE_ALONE),$(SCENARIOS)),$(MAKE) --no-print-directory MOLECULE_JOBS=1 molecule-$(scenario) &&) true

# make test's share of the machine: the scenarios and bench-smoke, each with a
# test host of its own, in one pool (bench-smoke is about as long as the
# shortest scenario, and goes last); then those of MOLECULE_ALONE.
.PHONY: test-hosts
test-hosts: setup test-images ## The Molecule scenarios and bench-smoke in one pool, MOLECULE_JOBS at once (make test runs it).
	$(MAKE) --no-print-directory -j $(MOLECULE_JOBS) $(addprefix molecule-,$(filter-out $(MOLECULE_ALONE),$(SCENARIOS))) bench-smoke
	$(foreach scenario,$(filter $(MOLECULE_ALONE),$(SCENARIOS)),$(MAKE) --no-print-directory MOLECULE_JOBS=1 molecule-$(scenario) &&) true

# One scenario: make molecule-<scenario>. Its tests run make as a user does,
# with none of this make's flags (its jobs, its variables).
molecule-%: setup test-images
	MAKEFLAGS= molecule/scenario.sh $*

# --- Images ------------------------------------------------------------------

IMAGE ?= flaskr
# Empty: python:3.12-slim when it can be pulled, else berth/python:3.11-bookworm.
BASE_IMAGE ?=
# The CA bundle pip trusts inside `docker build` (for TLS-intercepting proxies):
# the host's bundle when there is one; `PIP_CA_BUNDLE=` builds without it.
PIP_CA_BUNDLE ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)
## REGISTRY     Where `make publish` pushes: host[:port][/path].
REGISTRY ?=

.PHONY: base-images
base-images: ## Build berth/debian, berth/python, berth/redis and berth/caddy from the Debian mirror.
	$(call say_docker_sudo,images/base-images.sh)
	$(DOCKER_SUDO) images/base-images.sh

.PHONY: image
image: ## Build the app image flaskr:<VERSION> and flaskr:latest.
	$(call say_dirty,building)
	$(call say_docker_sudo,images/flaskr-image.sh)
	$(DOCKER_SUDO) IMAGE='$(IMAGE)' VERSION='$(VERSION)' BASE_IMAGE='$(BASE_IMAGE)' \
		PIP_CA_BUNDLE='$(PIP_CA_BUNDLE)' images/flaskr-image.sh

.PHONY: publish
publish: ## Push flaskr:<version> (and berth/redis, berth/caddy) to REGISTRY=host[:port][/path].
	@test -n '$(REGISTRY)' || { echo 'berth: set REGISTRY=host[:port][/path], e.g. make publish REGISTRY=localhost:5000' >&2; exit 1; }
	$(call say_dirty,building and publishing)
	@$(MAKE) --no-print-directory image VERSION='$(VERSION)'
	IMAGE='$(IMAGE)' VERSION='$(VERSION)' REGISTRY='$(REGISTRY)' images/publish.sh

.PHONY: test-image
test-image: setup ## Build the image and test it on the real engine with Redis.
	$(BIN)/pytest tests/image

.PHONY: bench-image
bench-image: setup image ## Image size, app-layer size and start-to-healthy time.
	$(BIN)/python bench/image.py '$(IMAGE):$(VERSION)'

# --- Deploy ------------------------------------------------------------------

## INVENTORY    Hosts to deploy to (default: inventory/, this machine).
INVENTORY ?= inventory

.PHONY: deploy
deploy: setup ## Deploy VERSION (default: images/version.sh) to INVENTORY (default: this machine).
ifeq ($(INVENTORY),inventory)
	$(call say_sudo,deploying to)
	$(call say_dirty,building and deploying)
	@# This machine needs no registry: give it an engine and build the images here.
	$(MAKE) --no-print-directory engine base-images image VERSION='$(VERSION)'
else
	$(call say_dirty,deploying)
endif
	$(BIN)/ansible-playbook playbooks/deploy.yml -i $(INVENTORY) -e app_version=$(VERSION) $(LOCAL_BECOME) $(ANSIBLE_ARGS)

.PHONY: rollback
rollback: setup ## Switch back to the release before the live one (or the earlier VERSION=...), with the same health gate.
	$(if $(LOCAL_BECOME),$(call say_sudo,rolling back on))
	$(BIN)/ansible-playbook playbooks/rollback.yml -i $(INVENTORY) \
		$(if $(filter command line,$(origin VERSION)),-e app_rollback_version=$(VERSION)) $(LOCAL_BECOME) $(ANSIBLE_ARGS)

.PHONY: unlock
unlock: setup ## Release a deploy lock left behind by a deploy that was killed.
	$(if $(LOCAL_BECOME),$(call say_sudo,releasing the deploy lock on))
	$(BIN)/ansible-playbook playbooks/unlock.yml -i $(INVENTORY) $(LOCAL_BECOME) $(ANSIBLE_ARGS)

# --- Day-2 operations ----------------------------------------------------------

## FORMAT       make status: table (default) or json.
FORMAT ?= table
## SERVICE      make logs: app (the live release, default), redis or proxy.
SERVICE ?= app
## LINES        make logs and make audit: how many of the last lines (default 100 and 20).
## FOLLOW       make logs FOLLOW=1: keep printing new lines.
FOLLOW ?=

# $(call on_host,PLAYBOOK,ARGS): the playbook works out a command for the first
# host of INVENTORY (or --limit's) and this machine runs it with a terminal.
on_host = @command=$$(mktemp) log=$$(mktemp); trap 'rm -f "$$command" "$$log"' EXIT; \
	$(BIN)/ansible-playbook playbooks/$(1).yml -i $(INVENTORY) -e host_command_file="$$command" $(2) \
		$(LOCAL_BECOME) $(ANSIBLE_ARGS) > "$$log" 2>&1 || { cat "$$log" >&2; exit 2; }; \
	bash "$$command"

# $(call report,PLAYBOOK,ARGS): the playbook writes its report to a file
# (PLAYBOOK_report) and make prints it, or Ansible's output if there is none;
# exit 1 when the playbook failed (make status: something is red).
report = @report=$$(mktemp) log=$$(mktemp); trap 'rm -f "$$report" "$$log"' EXIT; \
	$(BIN)/ansible-playbook playbooks/$(1).yml -i $(INVENTORY) -e $(1)_report="$$report" $(2) \
		$(LOCAL_BECOME) $(ANSIBLE_ARGS) > "$$log" 2>&1; failed=$$?; \
	if [ -s "$$report" ]; then cat "$$report"; else cat "$$log" >&2; fi; \
	[ $$failed = 0 ]

.PHONY: status
status: setup ## Each host's live release, readiness, rollback targets, lock, Redis, disk, certificate; exit 1 when red.
	$(call report,status,-e status_format=$(FORMAT))

.PHONY: logs
logs: setup ## The live release's logs (SERVICE=redis or proxy for theirs), LINES=n, FOLLOW=1.
	$(call on_host,logs,-e logs_service=$(SERVICE) -e logs_lines=$(or $(LINES),100) -e logs_follow=$(if $(FOLLOW),true,false))

.PHONY: shell
shell: setup ## app_shell_command (flaskr: flask shell) in the live release.
	$(call on_host,shell)

.PHONY: redis-cli
redis-cli: setup ## redis-cli in the Redis container, authenticated without showing the password.
	$(call on_host,redis_cli)

## BACKUP_DIR   make backup: where the archives are fetched to (default: backups/, ignored by git).
## BACKUP       make restore: the archive to restore, with its .sha256 file beside it.
BACKUP_DIR ?= backups

.PHONY: backup
backup: setup ## An online, verified backup of each host, kept there and fetched to BACKUP_DIR.
	$(BIN)/ansible-playbook playbooks/backup.yml -i $(INVENTORY) -e backup_fetch_dir='$(abspath $(BACKUP_DIR))' \
		$(LOCAL_BECOME) $(ANSIBLE_ARGS)

.PHONY: restore
restore: setup ## Put back the data of BACKUP=backups/<archive> on a deployed host (one; ANSIBLE_ARGS='--limit host').
	@test -n '$(BACKUP)' || { echo 'berth: name the archive: make restore BACKUP=backups/<archive>' >&2; exit 1; }
	$(BIN)/ansible-playbook playbooks/restore.yml -i $(INVENTORY) -e backup_restore_archive='$(abspath $(BACKUP))' \
		$(LOCAL_BECOME) $(ANSIBLE_ARGS)

## PURGE        make remove PURGE=1: also remove the data, once confirmed by the host's name (typed, or CONFIRM=<host>).
PURGE ?=
CONFIRM ?=

.PHONY: remove
remove: setup ## Take berth's containers off INVENTORY's hosts and keep every piece of data (PURGE=1: the data too).
	@confirm='$(CONFIRM)'; \
	if [ -n '$(PURGE)' ] && [ -z "$$confirm" ]; then \
		read -r -p "berth: PURGE=1 removes all data on the host. Type its inventory name to confirm: " confirm; \
	fi; \
	$(BIN)/ansible-playbook playbooks/remove.yml -i $(INVENTORY) -e remove_purge=$(if $(PURGE),true,false) \
		-e remove_confirm="$$confirm" $(LOCAL_BECOME) $(ANSIBLE_ARGS)

.PHONY: audit
audit: setup ## The last LINES (default 20) entries of each host's audit log.
	$(call report,audit,-e audit_lines=$(or $(LINES),20))

.PHONY: bench-backup
bench-backup: setup ## After make deploy: time a backup and a restore of 10,000 more posts, and the requests failed meanwhile.
	$(BIN)/python bench/backup.py

# make bench's load tool, from Debian's packages.
need_hey = @command -v hey >/dev/null || { echo 'berth: make bench needs hey: apt-get install hey'; exit 1; }

.PHONY: bench
bench: setup engine base-images image ## Capacity, deploy times over SSH and swaps under load: bench/results/report.md, report.json, swap.png.
	$(need_hey)
	molecule/images/build.sh default
	$(BIN)/python bench/perf.py --tag $(VERSION) -- $(ANSIBLE_ARGS)

.PHONY: bench-smoke
bench-smoke: setup engine base-images image ## make bench with each measurement cut to a second or so (make test runs it).
	$(need_hey)
	molecule/images/build.sh default
	$(BIN)/python bench/perf.py --tag $(VERSION) --seconds 1 --swap-seconds 3 -- $(ANSIBLE_ARGS)

.PHONY: bench-redeploy
bench-redeploy: setup engine base-images image ## Failed requests and lost posts during a redeploy: berth's swap against a plain recreate.
	$(BIN)/python bench/redeploy.py --from-tag $(VERSION) -- $(ANSIBLE_ARGS)
