"""gunicorn's configuration for the production server (`make serve`).

Threaded workers (gthread): most of a request's time is spent waiting on S3 or PostgreSQL, so a
request waiting on a slow store holds one thread, not a whole process, and signing (no store
call) keeps answering. Every variable below can be overridden from the environment.

Request time is bounded by the app's own budgets, not by gunicorn's `timeout`: all the store calls
of a request share one deadline, UPLOADS_REQUEST_DEADLINE (8 s by default), after which it
answers our JSON 503 (uploads/deadline.py), a database connection after DATABASE_CONNECT_TIMEOUT (5 s) and a
statement after DATABASE_STATEMENT_TIMEOUT_MS (15 s). gunicorn's `timeout` is only a last resort:
a gthread worker's main loop keeps telling the arbiter it is alive while its threads work, so the
timeout fires only when a whole process is stuck; it is then killed and its clients get a closed
connection, never a JSON answer. Hence the budgets stay well under it.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
wsgi_app = "project.wsgi:application"

worker_class = "gthread"
# One process per core (the GIL lets one thread of a process run Python at a time), and threads
# for the requests waiting on the network. Each thread may hold one PostgreSQL connection.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 8))

# Above the request's store deadline (8 s) and the statement timeout (15 s); see above.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
# On SIGTERM, stop accepting and give requests in flight this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5
# Recycle workers now and then, staggered, so a slow leak never grows for weeks.
max_requests = 2000
max_requests_jitter = 200

# Access log to stdout (with the time taken, in ms), gunicorn's own messages to stderr; the app's
# log (every 500 with its traceback) goes to stderr too (LOGGING in project/settings.py).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def post_worker_init(worker):
    """Build the boto3 clients before the worker's first request, not during it (uploads/s3/connection.py
    builds each once per process, under a lock; a client costs ~0.3 s of CPU to build)."""
    try:
        from uploads.s3 import S3Client

        S3Client()
    except Exception as e:  # noqa: BLE001 (a misconfigured store must not stop the worker: requests say why)
        worker.log.warning("Could not build the S3 clients at start: %s", e)
