# Two entry points (see README): `make run` and `make test`. Both create/refresh .venv.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck clean bench

# Re-install only when the dependency pins change.
$(VENV)/.stamp-run: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip==26.3"
	$(PIP) install -e .
	@touch $@

# torch comes from the CPU build on disk (torch==2.13.0); a plain `torch` would pull CUDA.
# llama-cpp-python compiles once (~3.5 min); pip caches the wheel for later venvs.
$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-run
	$(PIP) install "torch==2.13.0"
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(PIP) install -e ".[dev,embeddings,llm-local]"
	@touch $@

run: $(VENV)/.stamp-run
	$(BIN)/loci run

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check memory_core perception planners sim loci tests benchmarks
	$(BIN)/ruff format --check memory_core perception planners sim loci tests benchmarks

typecheck: $(VENV)/.stamp-test
	$(BIN)/mypy

test: lint typecheck
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

bench: $(VENV)/.stamp-run
	$(BIN)/python benchmarks/memory_bench.py
	$(BIN)/python benchmarks/sim_bench.py
	$(BIN)/python benchmarks/prompt_bench.py
	$(BIN)/python benchmarks/perception_bench.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
