# Two commands do all the set-up: `make lab` and `make test`. Each builds .venv if needed; nothing is
# installed outside it (no global kernelspec, no user site-packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PYTHONNOUSERSITE := 1

.PHONY: lab test bench nav clean help

help:
	@echo "make lab    open the curriculum in JupyterLab (embedded SQLite store)"
	@echo "make test   run every test: unit, notebooks (nbval), browser, PostgreSQL"
	@echo "make bench  run the benchmarks and write benchmarks/results.md"
	@echo "make nav    regenerate the navigation cells and index, the references, the facilitator guide and the crosswalk"
	@echo "make clean  remove the virtual environment and caches"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml tests/browser/package-lock.json tests/hub/package-lock.json tests/lrs/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@# The xAPI round trip posts to a real LRS (Ralph), in its own venv: its pins differ from ours.
	$(PYTHON) -m venv tests/lrs/.venv
	tests/lrs/.venv/bin/python -m pip install --quiet -r tests/lrs/requirements.txt
	@# The browser tests inject axe-core and the hub tests run configurable-http-proxy, both from npm.
	@# Without Node.js those tests skip locally (and fail under CI=true, where .ci/run installs it).
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --silent --no-audit --no-fund --prefix tests/browser && \
		npm ci --silent --no-audit --no-fund --prefix tests/hub; \
	else echo "npm not found: browser accessibility and JupyterHub tests will be skipped"; fi
	touch $(VENV)/.installed $@

# Containers often run as root, which Jupyter refuses unless told; allow it only in that case.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

# The venv's bin goes first on PATH, so `dualrole` works in a Lab terminal and in `!dualrole` cells.
# LAB_ARGS passes extra options to jupyter lab (the test of this target uses it).
# The lesson kernels load widgets.learner.hints: a card cell run before the lesson's first code cell
# says which cell to run instead of raising NameError. Its config lives in .dualrole-lab (not the
# learner's own IPython profile).
LAB_IPYTHONDIR := $(abspath .dualrole-lab/ipython)

lab: $(VENV)/.installed
	mkdir -p $(LAB_IPYTHONDIR)/profile_default
	cp tools/ipython/ipython_kernel_config.py $(LAB_IPYTHONDIR)/profile_default/ipython_kernel_config.py
	IPYTHONDIR=$(LAB_IPYTHONDIR) PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter lab --notebook-dir=. $(ALLOW_ROOT) $(LAB_ARGS) notebooks/00_start_here.ipynb

# Two workers: on two cores the browser and Hub tests spend much of their time waiting, and the other
# worker runs the rest meanwhile. Each test file stays whole on one worker (--dist loadfile): a notebook's
# cells depend on each other, and module fixtures such as a running Hub start once.
TEST_WORKERS ?= 2

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(VENV)/.installed $(VENV)/.installed-test $@

# About 20 minutes on 2 cores; BENCH_ARGS="--with-8m" adds the 8M-response cohort, "--quick" checks the code.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

nav: $(VENV)/.installed
	$(BIN)/python -m tools.curriculum
	$(BIN)/python -m tools.references
	$(BIN)/python -m tools.facilitator
	$(BIN)/python -m tools.crosswalk

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info tests/artifacts benchmarks/out tests/browser/node_modules tests/hub/node_modules tests/lrs/.venv
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
