# Quick start: `make demo` (transcribe with a model) and `make test` (the test suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_PKGS := espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts sox chromium chromium-driver

.PHONY: demo test test-all deps venv clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

deps:
	@missing=""; for p in $(SYSTEM_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test: deps venv
	$(BIN)/python -m pytest -q -m "not slow and not gpu" tests

test-all: deps venv
	$(BIN)/python -m pytest -q tests

demo: deps venv
	bash tools/demo.sh

clean:
	rm -rf $(VENV) exp data
