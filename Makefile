# The two commands of the README: `make run` serves the real data, `make test` runs every test.
# Both create the virtual environment and install what they need on a fresh Debian machine with python3.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
STAMP  := $(VENV)/.installed
# CKAN pins packages that clash with ours: ckanext-dcat's harvester lives in a venv of its own for the harvest test.
CKAN_VENV  ?= .venv-ckan
CKAN_STAMP := $(CKAN_VENV)/.installed

.PHONY: run test test-quick load lint bench clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

$(CKAN_STAMP):
	$(PYTHON) -m venv $(CKAN_VENV)
	$(CKAN_VENV)/bin/pip install --quiet --upgrade pip
	$(CKAN_VENV)/bin/pip install --quiet "ckan[requirements]==2.12.0" ckanext-dcat
	touch $(CKAN_STAMP)

## Build the store from data/ (validated with shapes/) and serve it on http://$(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/graph-service load
	$(BIN)/graph-service serve --host $(HOST) --port $(PORT)

load: $(STAMP)
	$(BIN)/graph-service load

## Every test: lint, the default suite, and the slow suites (browser, Virtuoso, load tests)
test: $(STAMP) system-deps $(CKAN_STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

## The fast suite only
test-quick: $(STAMP)
	$(BIN)/pytest -m "not slow"

## Debian packages the slow suites use (headless Chromium, Virtuoso); installed only where missing
system-deps:
	scripts/system-deps.sh
	bash scripts/virtuoso/install.sh

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf var $(VENV) $(CKAN_VENV)
