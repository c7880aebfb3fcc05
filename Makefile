# The two commands a newcomer needs: `make site` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LIBRARY ?=
OFFLINE ?=

BUILD_ARGS := $(if $(OFFLINE),--offline) $(foreach lib,$(LIBRARY),--library $(lib))

.PHONY: site test install install-test check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

site: install
	$(BIN)/litsynth build $(BUILD_ARGS)

check: install
	$(BIN)/litsynth check

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf site .litsynth
