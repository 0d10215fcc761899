# Two entry points on a fresh machine with Python 3.11 and make:
#   make demo   runs every example (against Groq if GROQ_API_KEY is set, else the bundled emulator)
#   make test   runs lint, type checks and the whole test suite, including the integration
#               tests against real llama.cpp servers (built once from PyPI into ~/.cache;
#               `make test LLAMACPP=0` skips them)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LLAMACPP ?= 1
ifeq ($(LLAMACPP),0)
PYTEST_MARKS := -m "not llamacpp"
endif

.PHONY: setup demo test lint typecheck unit llamacpp bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/python examples/run_all.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy llmx providers examples

unit: setup
	$(BIN)/python -m pytest $(PYTEST_MARKS) $(PYTEST_ARGS)

llamacpp: setup
ifneq ($(LLAMACPP),0)
	$(BIN)/python tests/integration/llamacpp/prepare.py
endif

test: lint typecheck llamacpp unit

bench: setup
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
