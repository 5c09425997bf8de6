"""Webhooks and processing in the admin: endpoints, the delivery log, "Process again"."""

from unittest import mock

import pytest
from django.urls import reverse

from uploads.models import Processing, Upload, WebhookDelivery, WebhookEndpoint
from uploads.processing import state
from uploads.webhooks.models import new_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_add_form_offers_a_generated_secret(admin):
    html = admin.get(reverse("admin:uploads_webhookendpoint_add")).content.decode()

    assert 'value="whsec_' in html


def test_an_endpoint_is_added_with_the_events_ticked(admin):
    response = admin.post(
        reverse("admin:uploads_webhookendpoint_add"),
        {
            "url": "https://hooks.example.com/uploads",
            "events": ["upload.processed"],
            "active": "on",
            "secret": new_secret(),
        },
    )

    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().events == ["upload.processed"]


def test_the_delivery_log_shows_attempts_status_and_last_error(admin):
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/x")
    WebhookDelivery.objects.create(
        id="msg_1", endpoint=endpoint, event="upload.processed", body="{}", state="failed", attempts=8,
        last_status_code=500, last_error="HTTP 500",
    )  # fmt: skip

    html = admin.get(reverse("admin:uploads_webhookdelivery_changelist")).content.decode()

    assert "msg_1" in html
    assert "HTTP 500" in html


def test_process_again_queues_complete_uploads(
    admin, upload_factory, user, django_capture_on_commit_callbacks
):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, processing=Processing.FAILED)
    with mock.patch.object(state, "enqueue") as enqueue, django_capture_on_commit_callbacks(execute=True):
        admin.post(
            reverse("admin:uploads_upload_changelist"),
            {"action": "process_again", "_selected_action": [upload.pk]},
        )

    enqueue.assert_called_once_with(upload.pk)
    upload.refresh_from_db()
    assert upload.processing == Processing.QUEUED
