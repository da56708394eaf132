# The two commands of the README: `make run` and `make test`. Each does all of the set-up it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch==2.13.0: on the project's machines this resolves to a local CPU-only wheel. On a CUDA
# machine PyPI serves the CUDA build of the same release; override TORCH to choose another.
TORCH ?= torch==2.13.0

.PHONY: run test test-fast lint bench clean package fuzz
$(VENV)/.base:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	touch $@

$(VENV)/.installed: $(VENV)/.base pyproject.toml
	$(PY) -m pip install -q -e .
	touch $@

# handtex (GPL-3.0) is a test-only dependency: a real pre-trained model nobody here wrote, used to
# prove model cards work on external models. --no-deps: only its model class and weights are used.
$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps handtex==1.0.5
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/sketchstudio $(ARGS)

# The rules in pyproject.toml: ruff (style, errors), import-linter (the layer contracts of
# DESIGN.md) and mypy (strict in sketch, render, models and explain; checked everywhere else).
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache   # a cached graph can miss a module added since
	$(VENV)/bin/mypy

test: $(VENV)/.installed-dev
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# Everything not marked `slow` (windows with models, subprocesses, training, real models, fuzzing):
# the check to run while working. `make test` still runs all of it.
test-fast: $(VENV)/.installed-dev
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow" -q $(PYTEST_ARGS)

# The installable app: dist/SketchStudio/ (PyInstaller, one folder), checked by its own --self-test.
# CPU-only unless SKETCHSTUDIO_VARIANT=cuda with a CUDA torch (see packaging/sketchstudio.spec).
$(VENV)/.installed-package: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[package]"
	touch $@

package: $(VENV)/.installed-package
	PYTHON=$(PY) packaging/build.sh

# Every importer (ndjson, npz, svg, native json, model cards) with 10,000 generated inputs each,
# and hostile model files (mutated TorchScript code, programs and archive members).
fuzz: $(VENV)/.installed-dev
	SKETCHSTUDIO_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-10000} QT_QPA_PLATFORM=offscreen $(PY) -m pytest \
		tests/test_reliability_fuzz.py tests/test_safety_model_fuzz.py -q -p no:cacheprovider \
		--hypothesis-show-statistics

bench: $(VENV)/.installed-dev
	$(VENV)/bin/sketchstudio bench

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
