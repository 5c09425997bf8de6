"""Settings for the benchmarks: the project's, plus a floor endpoint and a byte counter."""

import os
import tempfile
import warnings

from project.settings import *  # noqa: F403
from project.settings import DATABASES, MIDDLEWARE, STORAGES, env

ROOT_URLCONF = "benchmarks.urls"
DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = "benchmarks-only-secret-key-not-used-anywhere-else-0123456789"
if not os.environ.get("DATABASE_URL"):
    DATABASES["default"] = env.db_url_config(
        f"sqlite:///{os.path.join(tempfile.gettempdir(), 'uploads-bench.sqlite3')}"
    )
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
# Counts the request bodies Django receives: the data-path benchmark shows no file passes through.
MIDDLEWARE = ["benchmarks.floor.CountRequestBytes", *MIDDLEWARE]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# The page's scripts and styles straight from static/, without collectstatic.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", "No directory at", UserWarning)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast sign-in, bench only
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "bench-uploads")
AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID", "bench")
AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY", "bench-secret")
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# One user makes thousands of requests a minute here: limits so high they never refuse, so the
# throttle and quota checks still run (and cost what they cost) in every measured request.
# A benchmark that measures the limits themselves (scaleout.py) sets them in the environment.
UPLOADS_RATE_PRESIGN = os.environ.get("BENCH_RATE_PRESIGN", "1000000/m")
UPLOADS_RATE_URL = os.environ.get("BENCH_RATE_URL", "1000000/m")
UPLOADS_RATE_COMPLETE = UPLOADS_RATE_PARTS = UPLOADS_RATE_SIGN = "1000000/m"
UPLOADS_QUOTA_BYTES = int(os.environ.get("BENCH_QUOTA_BYTES", 10**15))
UPLOADS_QUOTA_PENDING = int(os.environ.get("BENCH_QUOTA_PENDING", 10**9))
