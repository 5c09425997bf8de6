"""Settings of the work on stored bytes: the Celery broker and tasks, processing limits,
thumbnails, scheduled cleanup and webhooks. Read from the environment like every setting;
star-imported at the end of project/settings.py (which has defined `env` and `BASE_DIR` by then).
"""

from project.settings import BASE_DIR, env

# Work on stored bytes (metadata, thumbnails, webhooks, scheduled cleanup) runs in Celery workers
# (project/celery.py). Production: Redis or RabbitMQ, e.g. redis://127.0.0.1:6379/1 or
# amqp://guest@127.0.0.1:5672//. Unset: an embedded broker in a SQLite file (kombu's SQLAlchemy
# transport, project/embedded_broker.py), which needs no server and keeps queued jobs across a
# restart: `make run`'s default.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
if not CELERY_BROKER_URL:
    (BASE_DIR / ".data").mkdir(exist_ok=True)  # a fresh clone has no .data/ yet
    CELERY_BROKER_URL = f"embedded+sqlite:///{BASE_DIR / '.data' / 'celery-broker.sqlite3'}"
# One queue for every task by default; name another to share a broker between sites.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="uploads")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None  # tasks record their outcome on the upload, not in a result store
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it has run: a worker killed mid-task leaves it to another.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Seconds before an unacknowledged task is handed to another worker (Redis, SQS); longer than the
# hard time limit, so a slow task is never run twice at once. (The embedded broker takes no
# options: kombu hands them to SQLAlchemy's create_engine. It hands out each message once;
# `requeue_stalled` covers a worker killed whole.)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {}
    if CELERY_BROKER_URL.startswith(("embedded+", "sqla+"))
    else {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)}
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Time limits of one processing run, in seconds: soft raises inside the task, hard kills it.
UPLOADS_PROCESSING_SOFT_TIME_LIMIT = env.int("UPLOADS_PROCESSING_SOFT_TIME_LIMIT", default=120)
UPLOADS_PROCESSING_TIME_LIMIT = env.int("UPLOADS_PROCESSING_TIME_LIMIT", default=180)
# Files larger than this are recorded but not processed (processing "none").
UPLOADS_PROCESSING_MAX_SIZE = env.int("UPLOADS_PROCESSING_MAX_SIZE", default=2 * 1024**3)
# Pillow's decompression-bomb limit: images with more pixels are refused (processing "failed").
UPLOADS_MAX_IMAGE_PIXELS = env.int("UPLOADS_MAX_IMAGE_PIXELS", default=100_000_000)
# Thumbnails fit in this square (WebP).
UPLOADS_THUMBNAIL_SIZE = env.int("UPLOADS_THUMBNAIL_SIZE", default=256)
# How long ffprobe/ffmpeg may run on one file.
UPLOADS_FFMPEG_TIMEOUT = env.int("UPLOADS_FFMPEG_TIMEOUT", default=60)
# cleanup_uploads on Celery beat (0: not scheduled; the command stays), in seconds, as the README's
# cron lines: every 5 minutes (this bounds a dead policy's window), with --orphans hourly and
# with --verify daily.
UPLOADS_CLEANUP_INTERVAL = env.int("UPLOADS_CLEANUP_INTERVAL", default=300)
UPLOADS_CLEANUP_ORPHANS_INTERVAL = env.int("UPLOADS_CLEANUP_ORPHANS_INTERVAL", default=3600)
UPLOADS_CLEANUP_VERIFY_INTERVAL = env.int("UPLOADS_CLEANUP_VERIFY_INTERVAL", default=86400)
# Webhooks (configured in the admin): private, loopback and link-local targets are refused
# unless this is true (a development receiver on 127.0.0.1).
UPLOADS_WEBHOOKS_ALLOW_PRIVATE = env.bool("UPLOADS_WEBHOOKS_ALLOW_PRIVATE", default=False)
UPLOADS_WEBHOOK_TIMEOUT = env.float("UPLOADS_WEBHOOK_TIMEOUT", default=10.0)
UPLOADS_WEBHOOK_MAX_ATTEMPTS = env.int("UPLOADS_WEBHOOK_MAX_ATTEMPTS", default=8)
CELERY_BEAT_SCHEDULE = {
    "requeue-stalled-processing": {"task": "uploads.processing.requeue_stalled", "schedule": 300.0},
    "resend-unsent-webhooks": {"task": "uploads.webhooks.resend_unsent", "schedule": 300.0},
}
for _name, _interval, _options in (
    ("cleanup-uploads", UPLOADS_CLEANUP_INTERVAL, {}),
    ("cleanup-uploads-orphans", UPLOADS_CLEANUP_ORPHANS_INTERVAL, {"orphans": True}),
    ("cleanup-uploads-verify", UPLOADS_CLEANUP_VERIFY_INTERVAL, {"verify": True}),
):
    if _interval:
        CELERY_BEAT_SCHEDULE[_name] = {
            "task": "uploads.cleanup_uploads",
            "schedule": float(_interval),
            "kwargs": _options,
        }
# Seconds before the second attempt of a webhook delivery; it doubles at each attempt.
UPLOADS_WEBHOOK_RETRY_BASE = env.float("UPLOADS_WEBHOOK_RETRY_BASE", default=10.0)
# Seconds before the first retry of a processing task the store failed; it doubles each time.
UPLOADS_PROCESSING_RETRY_BASE = env.float("UPLOADS_PROCESSING_RETRY_BASE", default=2.0)
# Seconds a thumbnail's presigned URL lives (the page and the API sign one per render).
UPLOADS_THUMBNAIL_URL_EXPIRATION = env.int("UPLOADS_THUMBNAIL_URL_EXPIRATION", default=3600)

# Trust (uploads/processing/trust.py): "none" (uploads get scan "skipped") or "clamav" (clamd's
# INSTREAM over UPLOADS_CLAMD_SOCKET, a unix socket path, or UPLOADS_CLAMD_ADDRESS, host:port).
# With a scanner, a complete upload is served only once its scan is clean.
UPLOADS_SCANNER = env.str("UPLOADS_SCANNER", default="none")
UPLOADS_CLAMD_SOCKET = env.str("UPLOADS_CLAMD_SOCKET", default="")
UPLOADS_CLAMD_ADDRESS = env.str("UPLOADS_CLAMD_ADDRESS", default="")
# Seconds one scan may take (connect, stream, verdict).
UPLOADS_SCAN_TIMEOUT = env.float("UPLOADS_SCAN_TIMEOUT", default=60.0)
# Largest file sent to the scanner, in bytes: at most clamd's StreamMaxLength (25 MiB unless raised
# in clamd.conf), which refuses longer streams. A larger file ends as scan "error" ("Too large to
# scan"), never served, however large UPLOADS_PROCESSING_MAX_SIZE is (that bounds metadata work only).
UPLOADS_SCAN_MAX_SIZE = env.int("UPLOADS_SCAN_MAX_SIZE", default=25 * 1024 * 1024)
# Infected objects are deleted, or, when this is set, moved under this prefix, which nothing serves.
UPLOADS_QUARANTINE_PREFIX = env.str("UPLOADS_QUARANTINE_PREFIX", default="")
