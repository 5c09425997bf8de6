"""The worker's side of webhooks: one task per delivery, retried with exponential backoff."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .delivery import DeliveryFailed, attempt
from .models import WebhookDelivery


@shared_task(
    name="uploads.webhooks.deliver",
    bind=True,
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    max_retries=None,  # bounded by UPLOADS_WEBHOOK_MAX_ATTEMPTS below
)
def deliver(self, delivery_id: str) -> None:
    final = self.request.retries + 1 >= settings.UPLOADS_WEBHOOK_MAX_ATTEMPTS
    try:
        attempt(delivery_id, final=final)
    except DeliveryFailed as e:
        if final:
            return  # logged as failed; staff can see it in the admin
        # 1 s, 2 s, 4 s … up to an hour between attempts (BASE doubles each time).
        delay = min(settings.UPLOADS_WEBHOOK_RETRY_BASE * 2**self.request.retries, 3600)
        raise self.retry(exc=e, countdown=delay) from e


@shared_task(name="uploads.webhooks.resend_unsent", acks_late=True)
def resend_unsent() -> int:
    """Queue again the deliveries never attempted for ten minutes (the broker was down when the
    event happened). Beat runs it; a delivery in its backoff has an attempt, so is left alone."""
    unsent = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING,
        last_attempt_at__isnull=True,
        created_at__lt=timezone.now() - timedelta(minutes=10),
    )
    ids = list(unsent.values_list("pk", flat=True)[:1000])
    for delivery_id in ids:
        deliver.delay(delivery_id)
    return len(ids)
