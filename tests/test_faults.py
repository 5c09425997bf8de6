"""Store faults: a store that hangs must cost a request its time budget, never more."""

import socket
import threading
import time

import pytest

from uploads.models import Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def hung_store(s3, settings):
    """A store that accepts connections and never answers, with a 0.5 s read budget per attempt."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept_forever():
        while True:
            try:
                accepted.append(server.accept()[0])  # read nothing, answer nothing
            except OSError:
                return

    threading.Thread(target=accept_forever, daemon=True).start()
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{server.getsockname()[1]}"
    settings.UPLOADS_S3_READ_TIMEOUT = 0.5
    settings.UPLOADS_S3_MAX_ATTEMPTS = 2
    yield 2 * (settings.UPLOADS_S3_CONNECT_TIMEOUT + 0.5)  # the budget, in seconds
    server.close()
    for connection in accepted:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/api/uploads/{id}/complete"), ("delete", "/api/uploads/{id}")]
)
def test_a_hung_store_costs_a_request_its_budget_then_answers_503(
    hung_store, api, user, upload_factory, method, path
):
    upload = upload_factory(owner=user, status=Upload.Status.PENDING)

    started = time.monotonic()
    response = getattr(api, method)(path.format(id=upload.pk))
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert elapsed < hung_store + 1  # the default botocore budget would be minutes


def test_signing_needs_no_store_and_works_while_it_hangs(hung_store, api):
    response = api.post(
        "/api/uploads",
        {"filename": "a.txt", "content_type": "text/plain", "size": 1},
        content_type="application/json",
    )

    assert response.status_code == 201
