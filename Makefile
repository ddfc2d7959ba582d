# One Makefile for people, CI and benchmarks. Everything installs itself into .venv.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test test-unit test-integration bench clean help

help:
	@echo "make run    - the whole platform, embedded (Tansu + litemongo), seeded with the demo street"
	@echo "make test   - install everything and run all tests (unit, contract, integration)"
	@echo "make bench  - measure speed and scale on this machine (28-minute budget): bench/results/, docs/benchmarks.md"

$(STAMP): requirements.lock pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Fangfei needs Python 3.11")'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/fangfei up

test: install tools
	$(BIN)/python -m pytest

# promtool and amtool for the alert-rule and routing tests; Debian's Chromium and its driver for the
# console's browser tests (Debian packages; CI runs as root).
.PHONY: tools
tools:
	@command -v promtool >/dev/null && command -v amtool >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus prometheus-alertmanager)
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver)

test-unit: install
	$(BIN)/python -m pytest -m "not integration"

test-integration: install
	$(BIN)/python -m pytest -m integration

# Not part of `make test`: timings live here (docs/benchmarks.md). wrk is the HTTP load generator.
bench: install
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (HTTP load generator) with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; }; }
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var test-artifacts
