"""Sending one webhook delivery: sign it (Standard Webhooks), POST it, log the attempt."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from .models import WebhookDelivery, WebhookEndpoint
from .targets import TargetRefused, check_target


class DeliveryFailed(Exception):
    """This attempt failed; the task retries with backoff."""


def create_deliveries(event: str, data: dict) -> list[str]:
    """Record one delivery of `event` per endpoint that wants it; return their ids."""
    ids = []
    timestamp = timezone.now()
    for endpoint in WebhookEndpoint.objects.filter(active=True):
        if not endpoint.wants(event):
            continue
        delivery_id = f"msg_{uuid.uuid4().hex}"
        body = json.dumps(
            {"type": event, "timestamp": timestamp.isoformat(), "data": data}, separators=(",", ":")
        )
        WebhookDelivery.objects.create(id=delivery_id, endpoint=endpoint, event=event, body=body)
        ids.append(delivery_id)
    return ids


def signed_headers(delivery: WebhookDelivery, *, at: datetime) -> dict[str, str]:
    signature = Webhook(delivery.endpoint.secret).sign(msg_id=delivery.id, timestamp=at, data=delivery.body)
    return {
        "content-type": "application/json",
        "user-agent": "django-s3-uploads-webhooks",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def attempt(delivery_id: str, *, final: bool) -> bool:
    """Send the delivery once; True when done (succeeded before, or now). Raise DeliveryFailed.

    `final`: the last attempt allowed, after which the delivery is marked failed.
    """
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.state == WebhookDelivery.State.SUCCEEDED:
        return True
    now = timezone.now()
    code, error = None, ""
    try:
        check_target(delivery.endpoint.url)
        response = requests.post(
            delivery.endpoint.url,
            data=delivery.body.encode(),
            headers=signed_headers(delivery, at=now),
            timeout=settings.UPLOADS_WEBHOOK_TIMEOUT,
            allow_redirects=False,  # a redirect could point anywhere, past the target check
        )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except TargetRefused as e:
        error = str(e)
    except requests.RequestException as e:
        error = f"{type(e).__name__}: {e}"[:500]
    succeeded = not error
    state = (
        WebhookDelivery.State.SUCCEEDED
        if succeeded
        else (WebhookDelivery.State.FAILED if final else WebhookDelivery.State.PENDING)
    )
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(state=WebhookDelivery.State.SUCCEEDED).update(
            attempts=delivery.attempts + 1,
            last_status_code=code,
            last_error=error,
            last_attempt_at=now,
            state=state,
            delivered_at=now if succeeded else None,
        )
    if not succeeded:
        raise DeliveryFailed(error)
    return True
