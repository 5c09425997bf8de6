"""Settings for the project, read from the environment and from `.env` when present.

Every variable is listed in `.env.example`. The AWS names are django-storages' own, plus the
specification's names (`AWS_S3_BUCKET_NAME`, `AWS_REGION`), kept as supported aliases.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


class Env(environ.Env):
    """django-environ, except that an empty value means "the default" (`X=` in a copied .env.example)."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        if default is not self.NOTSET and self.ENVIRON.get(var, None) == "":
            return self.parse_value(default, cast) if parse_default else default
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = Env()
environ.Env.read_env(BASE_DIR / ".env")

# --- Core -----------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
# Only a development server may run with the well-known key; the system check refuses it otherwise.
INSECURE_DEV_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "corsheaders",
    "ninja",
    "uploads",
    "project.examples",  # UploadField's example (README): Document, in the admin and at /examples/documents/
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

# Seconds to wait for a connection, and milliseconds a statement may run (PostgreSQL).
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
DATABASE_STATEMENT_TIMEOUT_MS = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=15000)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Uploads complete concurrently: take the write lock up front and wait for it, rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=20)
    # The browser tests' live server answers requests on several threads; an in-memory test
    # database would be one connection shared between them.
    DATABASES["default"].setdefault("TEST", {"NAME": str(BASE_DIR / ".test-db.sqlite3")})
else:
    # Reuse connections between requests (a new PostgreSQL connection costs about a quarter of a
    # presign + complete); `?conn_max_age=0` in DATABASE_URL turns it off.
    if "conn_max_age" not in env.str("DATABASE_URL", ""):
        DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
        # An unreachable server fails a request in seconds instead of holding it, and no query
        # outlives a worker's patience (a stuck lock, a runaway scan). 0 turns either off.
        _options = DATABASES["default"].setdefault("OPTIONS", {})
        _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        _options["options"] = (
            f"{_options.get('options', '')} -c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}".strip()
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "uploads:index"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- S3 (django-storages names, with the specification's aliases) ---------------------------

AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_BUCKET_NAME = AWS_STORAGE_BUCKET_NAME  # the specification's name, a supported alias
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
AWS_S3_REGION_NAME = AWS_REGION
# Set for S3-compatible stores (MinIO, R2, the embedded server of `make run`).
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
# Where browsers reach the store, when not where the server does (e.g. the server uses
# http://s3:9000 inside a container network, browsers https://files.example.com): URLs handed to
# browsers are signed for this host. The proxy in front must pass the Host header through.
UPLOADS_PUBLIC_ENDPOINT_URL = env.str("UPLOADS_PUBLIC_ENDPOINT_URL", default="") or None
# Path-style addressing works with every S3-compatible endpoint; AWS itself prefers virtual.
AWS_S3_ADDRESSING_STYLE = env.str(
    "AWS_S3_ADDRESSING_STYLE", default="path" if AWS_S3_ENDPOINT_URL else "virtual"
)
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_DEFAULT_ACL = None  # django-storages: leave ACLs to the bucket
AWS_S3_FILE_OVERWRITE = False
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE = env.int("UPLOADS_URL_EXPIRATION", default=3600)

# Time budget of each store call made while a request waits: connect + read per attempt, times the
# attempts, stays well under a worker's timeout (worst case 2 × (2 + 3) = 10 s by default).
UPLOADS_S3_CONNECT_TIMEOUT = env.float("UPLOADS_S3_CONNECT_TIMEOUT", default=2.0)
UPLOADS_S3_READ_TIMEOUT = env.float("UPLOADS_S3_READ_TIMEOUT", default=3.0)
UPLOADS_S3_MAX_ATTEMPTS = env.int("UPLOADS_S3_MAX_ATTEMPTS", default=2)
# The most a request may spend on the store in total, however many calls it makes (uploads/deadline.py);
# what it could not finish by then stays pending or deleting for the next try or cleanup_uploads.
UPLOADS_REQUEST_DEADLINE = env.float("UPLOADS_REQUEST_DEADLINE", default=8.0)
# "when_required" skips the CRC checksums boto3 1.36+ adds by default, which several
# S3-compatible stores refuse; "when_supported" is boto3's default.
UPLOADS_S3_CHECKSUMS = env.str("UPLOADS_S3_CHECKSUMS", default="when_required")

STORAGES = {
    # django-storages' S3 backend with the app's boto3 configuration (uploads/s3.py).
    "default": {"BACKEND": "uploads.storage.UploadStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Uploads --------------------------------------------------------------------------------

# "post": a presigned POST policy (AWS S3, MinIO, SeaweedFS). "put": a presigned PUT, for stores
# without POST policies (Cloudflare R2); the page's no-JavaScript form needs "post".
UPLOADS_UPLOAD_METHOD = env.str("UPLOADS_UPLOAD_METHOD", default="post")
# Up to 5 GB in one POST or PUT; above UPLOADS_MULTIPART_THRESHOLD files go in parts, up to S3's 5 TB.
UPLOADS_MAX_FILE_SIZE = env.int("UPLOADS_MAX_FILE_SIZE", default=100 * 1024 * 1024)
# Files larger than this are sent as a multipart upload the server starts (parallel, resumable parts).
UPLOADS_MULTIPART_THRESHOLD = env.int("UPLOADS_MULTIPART_THRESHOLD", default=64 * 1024 * 1024)
# The smallest part the server chooses (S3 refuses parts under 5 MiB but the last); larger files
# get larger parts so that none has more than 10,000.
UPLOADS_MULTIPART_PART_SIZE = env.int("UPLOADS_MULTIPART_PART_SIZE", default=8 * 1024 * 1024)
UPLOADS_KEY_PREFIX = env.str("UPLOADS_KEY_PREFIX", default="uploads")
# Patterns such as "image/*"; "*/*" allows every type.
UPLOADS_ALLOWED_CONTENT_TYPES = env.list("UPLOADS_ALLOWED_CONTENT_TYPES", default=["*/*"])
# A presigned POST policy lives minutes, not days.
UPLOADS_PRESIGN_EXPIRATION = env.int("UPLOADS_PRESIGN_EXPIRATION", default=600)
# How long after a policy expires an upload that started in time may still be arriving: the folder
# of a pending upload deleted or failed meanwhile is swept once more after expiry + this grace.
UPLOADS_POLICY_GRACE = env.int("UPLOADS_POLICY_GRACE", default=300)
UPLOADS_URL_EXPIRATION = AWS_QUERYSTRING_EXPIRE
UPLOADS_URL_MAX_EXPIRATION = env.int("UPLOADS_URL_MAX_EXPIRATION", default=24 * 3600)
# Canned ACL for private objects; set it empty for buckets with ACLs disabled (Object Ownership
# "Bucket owner enforced"), which refuse any ACL but bucket-owner-full-control.
UPLOADS_PRIVATE_ACL = env.str("UPLOADS_PRIVATE_ACL", default="private")
UPLOADS_PUBLIC = env.bool("UPLOADS_PUBLIC", default=False)
# Types that download links may show in the browser; every other type is an attachment. HTML,
# SVG, XML and JavaScript never are, whatever this says (uploads/serving.py).
UPLOADS_INLINE_TYPES = env.list(
    "UPLOADS_INLINE_TYPES",
    default=[
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "application/pdf",
        "audio/*",
        "video/*",
        "text/plain",
    ],
)
# Origins allowed to POST to the bucket (configure_bucket, check_s3).
UPLOADS_CORS_ORIGINS = env.list(
    "UPLOADS_CORS_ORIGINS", default=["http://localhost:8000", "http://127.0.0.1:8000"]
)

# --- Cross-origin API use ---------------------------------------------------------------------

# Other sites' pages (a separate front end, Uppy on its own origin) that may call /api/. Off by
# default; they authenticate with a bearer token, never this site's cookies.
CORS_ALLOWED_ORIGINS = env.list("UPLOADS_API_CORS_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False

# --- Security -------------------------------------------------------------------------------

# HTTPS. Off by default so `make run` works over http; .env.production.example turns every one on,
# and `manage.py check --deploy` is then clean.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
# Behind a proxy that terminates TLS: the header it sets and the value meaning https, e.g.
# "HTTP_X_FORWARDED_PROTO,https". Only if the proxy always sets (or strips) that header.
SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER", default=[])) or None
# Django's defaults stay: nosniff, Referrer-Policy same-origin, X-Frame-Options DENY, COOP.
# Pages also get a Content-Security-Policy (project/middleware.py).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "uploads.deadline.RequestDeadlineMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "project.middleware.ContentSecurityPolicyMiddleware",
)
MIDDLEWARE.append("project.api.MethodNotAllowedAsJson")  # 405s of /api/ in the {detail, code} shape

# Messages live in the session, not a cookie: the admin shows a new API token as one.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Files never pass through Django and the API's bodies are a few hundred bytes: a larger body
# answers 413 before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

# The cache behind the rate limits: one per process by default; with REDIS_URL
# (redis://127.0.0.1:6379/0) shared by every process and host, as production needs.
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# API rate limits per user (browser session or token alike): "<requests>/<s|m|h|d>"; 0 turns
# one off. Over it: 429 with Retry-After.
UPLOADS_RATE_PRESIGN = env.str("UPLOADS_RATE_PRESIGN", default="60/m")
UPLOADS_RATE_COMPLETE = env.str("UPLOADS_RATE_COMPLETE", default="120/m")
UPLOADS_RATE_URL = env.str("UPLOADS_RATE_URL", default="300/m")
# Multipart: /parts signs up to 100 part URLs a call; /sign one S3 request (Uppy signs every part).
UPLOADS_RATE_PARTS = env.str("UPLOADS_RATE_PARTS", default="120/m")
UPLOADS_RATE_SIGN = env.str("UPLOADS_RATE_SIGN", default="1200/m")
# Quotas per user, checked when an upload is signed; 0 = no limit. Bytes count complete files
# and what pending uploads may still store.
UPLOADS_QUOTA_BYTES = env.int("UPLOADS_QUOTA_BYTES", default=10 * 1024**3)
UPLOADS_QUOTA_PENDING = env.int("UPLOADS_QUOTA_PENDING", default=100)
# The statement timeout of management commands (cleanup walks every record), in ms; 0 = none.
UPLOADS_COMMAND_STATEMENT_TIMEOUT_MS = env.int("UPLOADS_COMMAND_STATEMENT_TIMEOUT_MS", default=30 * 60 * 1000)

# Sign-in (the site's and the admin's) through django-axes: after AXES_FAILURE_LIMIT wrong
# passwords for one username from one address, that pair is locked out (429) for the cool-off.
INSTALLED_APPS.append("axes")
# A view's database outage: 503 with Retry-After and one log line (project/outages.py).
MIDDLEWARE.append("project.outages.DatabaseOutageMiddleware")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as axes requires
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind reverse proxies: how many of them append to CLIENT_IP_HEADER, so the lockout keys on the
# client's address rather than the proxy's (project/client_ip.py). 0: no proxy, REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="X-Forwarded-For")
AXES_CLIENT_IP_CALLABLE = "project.client_ip.client_ip"

# --- Logging --------------------------------------------------------------------------------

# Everything goes to stderr: the uploads' own messages, and every 500 (pages and API) with its
# traceback, also with DEBUG off (Django's default sends those only to ADMINS by mail).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # Replaces Django's own handlers (console only with DEBUG, mail_admins): records reach root.
        "django": {"handlers": [], "level": "WARNING"},
        # 5xx are logged at ERROR with their traceback; 4xx (WARNING) are the access log's business.
        "django.request": {"level": "ERROR"},
        "uploads": {"level": env.str("LOG_LEVEL", default="INFO")},
    },
}

# --- Processing (Celery) ----------------------------------------------------------------------

# The workers' settings (broker, time limits, thumbnails, webhooks) live in their own module.
from project.settings_processing import *  # noqa: E402, F403
