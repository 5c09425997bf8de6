import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from uploads.events import emit, upload_processed
from uploads.models import WebhookDelivery, WebhookEndpoint
from uploads.webhooks.delivery import create_deliveries
from uploads.webhooks.targets import TargetRefused, check_target
from uploads.webhooks.tasks import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    """A real HTTP receiver on 127.0.0.1 that answers the statuses in `answers`, in turn."""
    received: list[tuple[dict, bytes]] = []
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(answers.pop(0) if answers else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received, server.answers = received, answers
    server.url = f"http://127.0.0.1:{server.server_port}/hooks"
    yield server
    server.shutdown()


@pytest.fixture
def endpoint(receiver, settings):
    settings.UPLOADS_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on loopback
    settings.UPLOADS_WEBHOOK_RETRY_BASE = 0
    return WebhookEndpoint.objects.create(url=receiver.url, events=["upload.processed"])


def test_a_receiver_failing_twice_then_succeeding_gets_three_signed_attempts_logged(receiver, endpoint):
    receiver.answers.extend([500, 503])
    [delivery_id] = create_deliveries("upload.processed", {"id": "u1"})

    deliver.apply(args=[delivery_id])  # eager: the retries run at once

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
    assert len(receiver.received) == 3
    headers, body = receiver.received[-1]
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload["type"] == "upload.processed"
    assert payload["data"] == {"id": "u1"}
    # The same webhook-id on every attempt: receivers drop duplicates by it.
    assert {h["webhook-id"] for h, _ in receiver.received} == {delivery_id}


def test_a_receiver_that_never_succeeds_is_marked_failed_after_the_last_attempt(receiver, endpoint, settings):
    settings.UPLOADS_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.answers.extend([500] * 5)
    [delivery_id] = create_deliveries("upload.processed", {"id": "u1"})

    deliver.apply(args=[delivery_id])

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("failed", 3, "HTTP 500")


def test_an_endpoint_gets_only_the_events_it_subscribed_to(endpoint):
    assert create_deliveries("upload.deleted", {"id": "u1"}) == []


def test_an_event_creates_its_deliveries_after_the_transaction_commits(
    endpoint, upload_factory, user, django_capture_on_commit_callbacks
):
    upload = upload_factory(owner=user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emit(upload_processed, upload)
    assert not WebhookDelivery.objects.exists()
    for callback in callbacks:
        callback()  # tests run tasks eagerly: delivered at once
    delivery = WebhookDelivery.objects.get()
    assert json.loads(delivery.body)["data"]["id"] == str(upload.pk)
    assert delivery.state == "succeeded"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/x", "http://localhost/x", "http://10.1.2.3/x", "http://169.254.169.254/latest"],
)
def test_private_and_loopback_targets_are_refused_by_default(url, settings):
    settings.UPLOADS_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(TargetRefused, match="private or loopback"):
        check_target(url)


def test_a_refused_target_is_logged_on_the_delivery_and_never_called(receiver, settings):
    settings.UPLOADS_WEBHOOKS_ALLOW_PRIVATE = False
    settings.UPLOADS_WEBHOOK_MAX_ATTEMPTS = 1
    WebhookEndpoint.objects.create(url=receiver.url)
    [delivery_id] = create_deliveries("upload.completed", {"id": "u1"})

    deliver.apply(args=[delivery_id])

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.state == "failed"
    assert "private or loopback" in delivery.last_error
    assert receiver.received == []


def test_deliveries_never_sent_are_queued_again_later(endpoint, receiver):
    from datetime import timedelta

    from django.utils import timezone

    from uploads.webhooks.tasks import resend_unsent

    [old] = create_deliveries("upload.processed", {"id": "old"})
    [recent] = create_deliveries("upload.processed", {"id": "recent"})
    WebhookDelivery.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(hours=1))

    assert resend_unsent.apply().result == 1

    assert WebhookDelivery.objects.get(pk=old).state == "succeeded"
    assert WebhookDelivery.objects.get(pk=recent).state == "pending"
