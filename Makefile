# Two commands for a newcomer: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.volseg-installed
DEMO_OUT ?= demo_out
PYTEST_ARGS ?=

.PHONY: install test demo lint format bench clean

# torch==2.13.0 first (a CPU wheel lies on these machines; an unpinned torch would pull a
# multi-GB CUDA build), unless a torch is already installed; then volseg with its extras.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[gui,dev]"
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check volseg tests benchmarks
	$(PY) -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/volseg demo $(DEMO_OUT)

lint: $(STAMP)
	$(PY) -m ruff check volseg tests benchmarks
	$(PY) -m ruff format --check volseg tests benchmarks

format: $(STAMP)
	$(PY) -m ruff format volseg tests benchmarks
	$(PY) -m ruff check --fix volseg tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/metrics.py
	$(PY) benchmarks/decode.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
