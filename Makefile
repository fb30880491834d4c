# wiki-suggest: `make run` starts the service, `make test` runs every test. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000
SAMPLE := var/data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2
CODEX := suggest/web/static/codex.style.css

.PHONY: run test bench bench-servers codex install install-test lint typecheck services mediawiki-packages gadget-test clean train eval \
	train-references

run: install
	$(VENV)/bin/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --timeout 120 \
	  --access-logfile - --access-logformat '%(m)s %(U)s %(s)s %(b)s %(M)sms' app:app

# Core service: no torch, no network at run time (the packaged e5 model and the sample dump).
install: $(VENV)/.installed-run $(SAMPLE)

$(VENV)/.installed-run: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

# Tests also need torch (CPU wheel first: a bare `torch` pulls a multi-GB CUDA build),
# transformers with its packaged model, and the test tools.
install-test: install $(VENV)/.installed-test node_modules/.installed

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-run
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[transformers,test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Codex's stylesheet is committed (the Toolforge build runs no npm); after changing its version in
# package.json, `make codex` copies the new one (tests/test_static_assets.py checks they match).
codex: node_modules/.installed
	cp node_modules/@wikimedia/codex/dist/codex.style.css $(CODEX)

# The 2016 English sample ships inside the gensim 4.4.0 wheel; pip fetches it, we keep one file.
$(SAMPLE):
	mkdir -p var/data var/wheels
	$(PIP) download -q --no-deps --only-binary=:all: gensim==4.4.0 -d var/wheels
	$(PY) -m suggest.sample_data var/wheels $(SAMPLE)

services:
	bash tests/support/start_services.sh

mediawiki-packages:
	bash tests/support/install_mediawiki_packages.sh

lint: install-test
	$(VENV)/bin/ruff check suggest tests app.py
	$(VENV)/bin/mypy
	npm run --silent lint

gadget-test: node_modules/.installed
	npm test --silent

test: install-test services mediawiki-packages lint gadget-test
	$(PY) -m pytest tests

# The category ranker and the per-language evaluation over the development dumps (when present).
DEV_DUMPS ?= $(sort $(wildcard ../shared/data/dumps/*wiki*.xml*))
# The committed run (eval/results.json, its "command"): these two backends, trained in the run.
# Add transformers (English-only) with EVAL_BACKENDS='e5-multilingual-offline tfidf transformers'.
EVAL_BACKENDS ?= e5-multilingual-offline tfidf

train: install-test
	$(PY) -m suggest.ranking.train $(addprefix --dump ,$(DEV_DUMPS)) $(addprefix --backend ,$(EVAL_BACKENDS))

eval: install-test
	$(PY) -m suggest.evaluate --task categories $(addprefix --dump ,$(DEV_DUMPS)) \
	  $(addprefix --backend ,$(EVAL_BACKENDS)) --train --out eval/results.json --report eval/report.md \
	  --notes eval/notes.md

# The references rankers (fitted on the dev dumps' train split), their per-wiki thresholds (chosen on
# dev, merged into suggest/data/thresholds.json) and the report (test split). Cases are cached in
# var/cache/references-cases/, so a second run only refits and reports.
REF_ARGS ?= --limit 400 --per-article 5 --backend-limit e5-multilingual-offline=200 --bootstrap 500
train-references: install-test
	$(PY) -m suggest.evaluate --task references $(addprefix --dump ,$(DEV_DUMPS)) \
	  --backend tfidf --backend e5-multilingual-offline $(REF_ARGS) --train \
	  --out eval/references-results.json --report eval/references-report.md --notes eval/references-notes.md

# Performance ratios against floors measured in the same run (not a test; see bench/README.md).
# wrk (Debian) generates the load when it can be installed; else bench/ uses its Python client.
bench: install
	@command -v wrk >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  $$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get install -y -q wrk >/dev/null; } || \
	  echo "wrk not installed: the Python load client is used (ratios move towards 1)"
	$(PY) -m bench.run $(BENCH_ARGS)

# Figures 1 and 3 on other WSGI servers than the Procfile's gunicorn (uWSGI, Granian), for the
# choice of the server. Installed into the venv here only; the service does not need them.
bench-servers: install
	$(PIP) install -q uwsgi==2.0.31 granian==2.8.9
	$(MAKE) bench BENCH_ARGS="--only servers $(BENCH_ARGS)"

clean:
	rm -rf $(VENV) var node_modules
