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
# rdflib-endpoint (FastAPI, uvicorn) for the benchmark lives in a venv of its own too.
BENCH_VENV  ?= .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: run test test-remote test-quick load lint bench bench-deps clean system-deps

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
## (its origin's downloads are written by load, and the server counts it among the prepared ones)
run: export AIWATCH_DOWNLOAD_ORIGINS = http://$(HOST):$(PORT)/
run: $(STAMP)
	$(BIN)/graph-service load
	$(BIN)/graph-service serve --host $(HOST) --port $(PORT)

load: $(STAMP)
	$(BIN)/graph-service load

## Every test: lint, the default suite, and the slow suites (browser, Virtuoso, load tests); then the face suites
## again on the remote backend
test: $(STAMP) system-deps $(CKAN_STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest
	$(MAKE) test-remote

# The SPARQL, Linked Data and catalogue faces, which must not be able to tell the backends apart. The W3C protocol
# suite is not repeated: it serves a throw-away embedded store of its own on either backend.
REMOTE_FACE_SUITES := tests/test_sparql_protocol.py tests/test_sparql_clients.py tests/test_linked_data.py \
	tests/test_linked_data_live.py tests/test_catalog.py tests/test_catalog_dcat_ap.py tests/test_browse.py \
	tests/test_query_ui.py tests/test_engine_differences.py

## The face suites on the remote backend: the project data loaded into a private Virtuoso on 127.0.0.1 that the
## tests start and stop (or the one AIWATCH_REMOTE_* names)
test-remote: $(STAMP)
	$(BIN)/pytest --backend remote -m "not embedded_only" $(REMOTE_FACE_SUITES)

## The fast suite only
test-quick: $(STAMP)
	$(BIN)/pytest -m "not slow"

## Debian packages the slow suites use (headless Chromium, Virtuoso); installed only where missing
system-deps:
	scripts/system-deps.sh
	bash scripts/virtuoso/install.sh

## Benchmark at 100k, 1M and 10M triples against a bare Flask app, rdflib-endpoint and Virtuoso; writes
## docs/benchmarks.md. Takes about an hour on 2 cores (the 10M step alone ~30 min). BENCH_ARGS="--sizes 100k,1M".
BENCH_ARGS ?=
bench: $(STAMP) bench-deps
	$(BIN)/graph-service bench --output docs/benchmarks.md $(BENCH_ARGS)

## What the benchmark compares with: wrk (load generator), Virtuoso (Debian), rdflib-endpoint (its own venv)
bench-deps: $(BENCH_STAMP)
	command -v wrk >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk; }
	scripts/virtuoso/install.sh

$(BENCH_STAMP):
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet "rdflib-endpoint[cli]>=0.6" uvicorn
	touch $(BENCH_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf var $(VENV) $(CKAN_VENV) $(BENCH_VENV)
