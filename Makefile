# make run: create .venv, install probesim, run the default scenario into results/.
# make test: create .venv with the test extras, lint, type-check, run the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/liveness-exec.yaml

.PHONY: run test lint format clean

$(BIN)/probesim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/probesim

run: $(BIN)/probesim
	$(BIN)/probesim run $(SCENARIO)

test: $(BIN)/probesim
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(BIN)/probesim
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/probesim
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info
