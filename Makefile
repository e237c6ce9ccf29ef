# Quick start: `make demo` (transcribe with a model) and `make test` (the test suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_PKGS := espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts sox chromium chromium-driver
# TTS voices from Debian's non-free section: tools/system_deps.sh enables it when they are not found.
NONFREE_PKGS := mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 libttspico-utils

.PHONY: demo test test-all deps venv clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

deps:
	@bash tools/system_deps.sh "$(SYSTEM_PKGS)" "$(NONFREE_PKGS)"

test: deps venv
	$(BIN)/python -m pytest -q -m "not slow and not gpu" tests

test-all: deps venv
	$(BIN)/python -m pytest -q tests

demo: deps venv
	bash tools/demo.sh

clean:
	rm -rf $(VENV) exp data
