# GenAI Gateway — developer commands. `make local` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQUIREMENTS := requirements-dev.txt layers/gateway/requirements.txt litellm_service/requirements-local.txt \
	cdk/requirements.txt
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/layers/gateway:$(CURDIR)/scripts:$(CURDIR)

.PHONY: install local test lint format bench synth deploy clean

$(STAMP): $(REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(STAMP)

## Run the whole gateway locally in the foreground (Ctrl-C stops everything).
local: install
	$(PY) -m devstack

## Install what is needed and run every test (lint included). CI runs exactly this.
test: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) .local cdk.out .pytest_cache .ruff_cache
