import os
import uuid
from datetime import timedelta
from urllib.parse import urlparse

# moto's server would answer every origin with CORS headers of its own; without them it answers
# with the bucket's CORS rules, as S3 does, so browser tests meet the rules configure_bucket sets.
# (Read when moto.settings is first imported, hence before the moto import below.)
os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")

import pytest
import requests
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from moto.server import ThreadedMotoServer

from tests.helpers import CHROMIUM, MIB, MULTIPART_SIZE, start_multipart
from uploads.keys import object_key
from uploads.models import ApiToken, Processing, Upload
from uploads.quotas import recount_usage
from uploads.s3 import S3Client

from .clamav import clamd_daemon, clamd_scanner  # noqa: F401 (the clamav tier's fixtures)

BUCKET = "test-uploads"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """A cheap hasher for test users, as Django advises for test suites: the deployed default
    (PBKDF2) costs about 0.4 s a password on a test machine, and most tests make a user or two.
    Processes a test starts (manage.py, gunicorn) keep the deployed hasher."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # The rate limits count in the cache (per process by default): each test starts from zero.
    cache.clear()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in the test's process as they are sent; the `worker` tier runs a real worker."""
    from project.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _answer_writes_with_the_buckets_cors_rules() -> None:
    """moto adds the bucket's CORS headers to GETs only; S3 adds them to every answer (POST, PUT,
    DELETE too), and a browser refuses a cross-origin answer without them. Preflights are moto's own."""
    from moto.s3.responses import S3Response

    for name in ("bucket_response", "key_response"):
        original = getattr(S3Response, name)

        def answer(self, request, *args, _original=original, **kwargs):
            status, headers, body = _original(self, request, *args, **kwargs)
            if request.method != "OPTIONS":
                headers = {**self._get_cors_headers_other(), **headers}
            return status, headers, body

        setattr(S3Response, name, answer)


@pytest.fixture(scope="session")
def moto_server():
    """moto's S3 server on 127.0.0.1, spoken to over real HTTP like any S3-compatible store."""
    _answer_writes_with_the_buckets_cors_rules()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(settings, moto_server) -> S3Client:
    """An empty bucket on the moto server, with the settings pointing at it."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    settings.AWS_S3_ENDPOINT_URL = moto_server
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    # Reassigning STORAGES rebuilds default_storage (django-storages) from the settings above.
    settings.STORAGES = {**settings.STORAGES}
    client = S3Client()
    client.client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="correct-horse-battery")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="correct-horse-battery")


@pytest.fixture
def token(user) -> str:
    return ApiToken.issue(user=user, name="tests")[1]


@pytest.fixture
def api(token) -> Client:
    """A script's view of the API: alice's token on every request."""
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def bob_api(other_user) -> Client:
    return Client(headers={"Authorization": f"Bearer {ApiToken.issue(user=other_user, name='tests')[1]}"})


@pytest.fixture
def redis_cache(settings):
    """Django's cache on Redis (db 15), as production runs it; skipped when no Redis answers."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def small_parts(settings):
    """Multipart above 5 MiB, in parts of 5 MiB (S3's smallest part but the last)."""
    settings.UPLOADS_MULTIPART_THRESHOLD = 5 * MIB
    settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB


# An MP4's first box (`ftyp`), which libmagic reads as video/mp4: what the multipart uploads declare.
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


@pytest.fixture
def body() -> bytes:
    """The bytes of a multipart upload of MULTIPART_SIZE: random after an MP4's first box. Random
    from the first byte, libmagic once took them for another type, and complete failed the upload."""
    return MP4_HEAD + os.urandom(MULTIPART_SIZE - len(MP4_HEAD))


@pytest.fixture
def started(s3, api, small_parts) -> dict:
    """A multipart upload of MULTIPART_SIZE started through the API: its JSON answer."""
    return start_multipart(api)


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium through Playwright, one per test module (Playwright may not download one)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium (install Debian's chromium: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


# --- Faults (pytest -m faults): the store behind tests/faults.py's proxy -------------------------

FAULT_READ_TIMEOUT = 1.0
# Below what one call costs on a hung store here (2 attempts x 1 s read; connecting succeeds), so the
# request's deadline is what bounds it.
FAULT_REQUEST_DEADLINE = 1.0


@pytest.fixture
def store(s3, moto_server, settings):
    """The proxy between the app and moto's S3 server, passing until told otherwise."""
    from tests.faults import FaultProxy

    endpoint = urlparse(moto_server)
    proxy = FaultProxy((endpoint.hostname, endpoint.port))
    settings.AWS_S3_ENDPOINT_URL = proxy.url
    settings.UPLOADS_S3_CONNECT_TIMEOUT = 0.5
    settings.UPLOADS_S3_READ_TIMEOUT = FAULT_READ_TIMEOUT
    settings.UPLOADS_S3_MAX_ATTEMPTS = 2
    settings.UPLOADS_REQUEST_DEADLINE = FAULT_REQUEST_DEADLINE
    yield proxy
    proxy.close()


@pytest.fixture
def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def s3_down(s3, settings):
    """An outage: the store refuses connections (nothing listens on the discard port)."""
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"


@pytest.fixture
def put_object():
    """Place an object in the bucket the settings point at, as if a browser had uploaded it."""

    def put(key: str, body: bytes = b"data", content_type: str = "text/plain") -> str:
        client = S3Client()
        client.client.put_object(Bucket=client.bucket_name, Key=key, Body=body, ContentType=content_type)
        return key

    return put


@pytest.fixture
def upload_factory(db, put_object):
    """Create an Upload record, and its object in the bucket when `body` is given."""

    def make(
        *,
        owner=None,
        filename="report.pdf",
        content_type="application/pdf",
        max_size=1024,
        status=Upload.Status.PENDING,
        body: bytes | None = None,
        stored_type: str | None = None,
        age: timedelta = timedelta(0),
        **fields,
    ) -> Upload:
        upload_id = uuid.uuid4()
        key = object_key(upload_id, filename)
        if body is not None:
            put_object(key, body, stored_type or content_type)
        created = timezone.now() - age
        upload = Upload.objects.create(
            id=upload_id,
            owner=owner,
            file=key,
            original_filename=filename,
            content_type=content_type,
            max_size=max_size,
            status=status,
            created_at=created,
            expires_at=created + timedelta(minutes=10),
            **fields,
        )
        if owner is not None:
            recount_usage(owner.pk)  # a record written by hand: its owner's usage row follows
        return upload

    return make


@pytest.fixture
def put_to_s3():
    """PUT a body to a presigned URL with the headers it was signed with, as a browser's XHR does."""

    def put(url: str, headers: dict, body: bytes):
        return requests.put(url, data=body, headers=headers, timeout=30)

    return put


@pytest.fixture
def post_to_s3():
    """POST a file to S3 the way a browser form does: the signed fields, then the file."""

    def post(
        url: str, fields: dict, body: bytes, *, filename: str = "file.bin", content_type: str | None = None
    ):
        file_type = content_type or fields.get("Content-Type", "application/octet-stream")
        # S3 may answer a redirect to the site (success_action_redirect); the caller follows it.
        return requests.post(
            url, data=fields, files={"file": (filename, body, file_type)}, timeout=30, allow_redirects=False
        )

    return post


# --- Strict store: SeaweedFS, which enforces what moto lets through (pytest -m strict) -----------
# Self-contained but for pytest, uuid and S3Client imported above, so it moves as one piece.

from project import localstore  # noqa: E402

STRICT_KEY, STRICT_SECRET = "strict", "strict-secret"


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """SeaweedFS on free loopback ports, its data in a temporary folder, for the whole run."""
    try:
        store = localstore.start(
            data_dir=tmp_path_factory.mktemp("seaweedfs"), access_key=STRICT_KEY, secret_key=STRICT_SECRET
        )
    except localstore.LocalStoreError as e:
        # A failure, in CI and here alike, never a skip: a skipped strict tier reads as a passed one.
        pytest.fail(f"The strict tests need SeaweedFS (make install): {e}", pytrace=False)
    yield store
    store.stop()


@pytest.fixture
def strict_s3(settings, seaweedfs):
    """A fresh, empty bucket on SeaweedFS, with the settings pointing at it."""
    settings.AWS_S3_ENDPOINT_URL = seaweedfs.endpoint
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.AWS_ACCESS_KEY_ID = STRICT_KEY
    settings.AWS_SECRET_ACCESS_KEY = STRICT_SECRET
    settings.AWS_STORAGE_BUCKET_NAME = f"strict-{uuid.uuid4().hex[:16]}"
    # Reassigning STORAGES rebuilds default_storage (django-storages) from the settings above.
    settings.STORAGES = {**settings.STORAGES}
    client = S3Client()  # a boto3 client of its own: the cache is keyed on endpoint and keys
    client.create_bucket()
    yield client
    # SeaweedFS deletes a bucket with its objects (-s3.allowDeleteBucketNotEmpty, on by default).
    client.client.delete_bucket(Bucket=client.bucket_name)


@pytest.fixture
def stored_upload(upload_factory, user):
    """A complete upload whose object is `body`, with its processing queued (as complete leaves it)."""

    def make(body: bytes, *, filename: str, content_type: str) -> Upload:
        upload = upload_factory(
            owner=user,
            filename=filename,
            content_type=content_type,
            body=body,
            max_size=len(body),
            size=len(body),
            status=Upload.Status.COMPLETE,
            processing=Processing.QUEUED,
        )
        upload.etag = S3Client().head(upload.key).etag
        upload.save(update_fields=["etag"])
        return upload

    return make
