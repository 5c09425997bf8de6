import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .serving import is_raster_image
from .storage import UploadFileField


class UploadQuerySet(models.QuerySet):
    def owned_by(self, user) -> "UploadQuerySet":
        return self.filter(owner=user)

    def pending_since(self, cutoff: datetime) -> "UploadQuerySet":
        """Pending uploads created before `cutoff`: the browser never called complete."""
        return self.filter(status=Upload.Status.PENDING, created_at__lt=cutoff)

    def usage(self) -> dict[str, int]:
        """Bytes stored and reserved, and pending uploads, summed over the rows (one aggregate query).

        A complete upload counts its size; a pending one the most its policy allows (the exact
        declared size, or its bound). Only to build or repair a `Usage` row: presign reads that.
        """
        return self.aggregate(
            bytes_stored=Coalesce(Sum("size", filter=Q(status=Upload.Status.COMPLETE)), 0),
            bytes_reserved=Coalesce(
                Sum(Coalesce("expected_size", "max_size"), filter=Q(status=Upload.Status.PENDING)), 0
            ),
            pending=Count("pk", filter=Q(status=Upload.Status.PENDING)),
        )


class Processing(models.TextChoices):
    """Where the work on an upload's stored bytes stands (uploads/processing)."""

    NONE = "none", "Nothing to do"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Scan(models.TextChoices):
    """The malware scan of an upload's stored bytes (uploads/processing/trust.py).

    With a scanner set (UPLOADS_SCANNER), a complete upload is served only once `clean`.
    """

    PENDING = "pending", "Pending"
    CLEAN = "clean", "Clean"
    INFECTED = "infected", "Infected"
    ERROR = "error", "Scanner error"
    SKIPPED = "skipped", "Not scanned (no scanner)"


class Upload(models.Model):
    """One file sent by a browser straight to S3; the server only signs, verifies and records."""

    Processing = Processing
    Scan = Scan

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"
        # Its object is being deleted; the row goes once the object has (cleanup finishes a
        # delete a crash interrupted).
        DELETING = "deleting", "Deleting"

    # The Python interface's names (the specification's `Upload.STATUS_*`).
    STATUS_PENDING = Status.PENDING
    STATUS_COMPLETE = Status.COMPLETE
    STATUS_FAILED = Status.FAILED

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="uploads",
    )
    # The object key, chosen by the server; django-storages' default storage serves it, and
    # `file.url` only once the upload may be served (uploads/storage.py).
    file = UploadFileField(max_length=1024, unique=True)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    max_size = models.PositiveBigIntegerField(help_text="Largest size the policy allows, in bytes.")
    expected_size = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Exact size the client declared and the policy pinned, if any."
    )
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Size reported by S3.")
    etag = models.CharField(max_length=128, blank=True, help_text="ETag reported by S3.")
    public = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="When the upload policy expires.")
    # A multipart upload (uploads/multipart.py): the store's id for it, kept here and never taken
    # from a client unchecked, and the part size the server chose (for every multipart upload,
    # also one a client starts itself; empty for uploads sent whole).
    multipart_upload_id = models.CharField(max_length=1024, blank=True)
    part_size = models.PositiveBigIntegerField(null=True, blank=True)
    # When `/sign` signed CreateMultipartUpload for a client that starts its own (Uppy 6): once only.
    create_signed_at = models.DateTimeField(null=True, blank=True)
    # Why it failed (uploads/failures.py): a stable code for scripts and a sentence for people.
    failure_code = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    # The model field ("app_label.Model.field") whose widget made it (uploads/fields.py), or empty.
    # Such an upload belongs to the record that points at it; one no record took is abandoned.
    for_field = models.CharField(max_length=255, blank=True, default="")
    # Work on the stored bytes (uploads/processing): its own state, apart from `status`, which
    # says whether the file is there. A failed processing leaves a complete upload complete.
    processing = models.CharField(max_length=8, choices=Processing.choices, default=Processing.NONE)
    processing_error = models.CharField(max_length=255, blank=True)
    processing_queued_at = models.DateTimeField(null=True, blank=True)
    # Only the keys that apply: width, height, format, frames, orientation, pages, duration.
    metadata = models.JSONField(default=dict, blank=True)
    # {"key", "width", "height", "content_type"} of the WebP thumbnail in the upload's folder.
    thumbnail = models.JSONField(null=True, blank=True)

    # Trust (uploads/processing/trust.py): the SHA-256 the client declared (base64, as S3's
    # x-amz-checksum-sha256), the one the worker computed from the stored bytes, and the scan.
    declared_sha256 = models.CharField(max_length=44, blank=True)
    # A multipart upload's part digests as /parts signed them ({"1": "<base64>", ...}): the page
    # declares these, not the whole file's; the worker checks each part of the stored object.
    declared_part_sha256 = models.JSONField(default=dict, blank=True)
    checksum_sha256 = models.CharField(
        max_length=44, blank=True, help_text="SHA-256 of the stored bytes (base64), computed by the worker."
    )
    scan = models.CharField(max_length=8, choices=Scan.choices, default=Scan.PENDING)

    objects = UploadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The upload list and the API, in each order they offer (listing.LIST_ORDERINGS), read
            # in index order a page at a time: WHERE owner_id = ? ORDER BY <key>, id.
            models.Index(fields=["owner", "-created_at", "-id"], name="upload_owner_created_idx"),
            models.Index(fields=["owner", "original_filename", "id"], name="upload_owner_name_idx"),
            models.Index(fields=["owner", "size", "id"], name="upload_owner_size_idx"),
            # ... filtered by status (the API's ?status=).
            models.Index(fields=["owner", "status", "-created_at", "-id"], name="upload_owner_status_idx"),
            # Rebuilding a usage row (quotas.recount_usage): sums read from the index alone.
            models.Index(
                fields=["owner", "status", "size", "expected_size", "max_size"], name="upload_owner_usage_idx"
            ),
            # Cleanup: WHERE status = 'pending' AND created_at < ?; the admin's status filter.
            models.Index(fields=["status", "created_at", "id"], name="upload_status_created_idx"),
            # The admin's changelist over every user: ORDER BY created_at DESC, id DESC.
            models.Index(fields=["-created_at", "-id"], name="upload_created_idx"),
            # PostgreSQL only (migration 0011): (owner, size DESC NULLS LAST, id DESC) for the
            # largest-first sort, a trigram GIN on UPPER(original_filename) for name search, and
            # (file COLLATE "C") of complete uploads for cleanup --verify.
            # requeue_stalled: WHERE processing IN ('queued', 'running') AND processing_queued_at < ?.
            models.Index(fields=["processing", "processing_queued_at"], name="upload_processing_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "complete", "failed", "deleting"]),
                name="upload_status_valid",
            ),
            models.CheckConstraint(condition=models.Q(max_size__gt=0), name="upload_max_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.status})"

    @property
    def key(self) -> str:
        return self.file.name

    @property
    def resumable(self) -> bool:
        """A pending multipart upload: choosing the same file again sends only the missing parts."""
        return self.status == self.Status.PENDING and bool(self.multipart_upload_id and self.part_size)

    @property
    def is_image(self) -> bool:
        """A bitmap image, safe to show as a thumbnail (SVG is not: it can carry script)."""
        return is_raster_image(self.content_type)


class PolicyTombstone(models.Model):
    """The folder of an upload failed or deleted while its upload policy could still store a file.

    Cleanup empties the folder once the policy has expired (plus UPLOADS_POLICY_GRACE), then
    forgets the tombstone: no byte a live policy stores outlives it by more than that.
    """

    upload_id = models.UUIDField()
    key = models.CharField(max_length=1024)
    sweep_after = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"tombstone of upload {self.upload_id}"


class Usage(models.Model):
    """What one user stores and has reserved: the row every presign locks to check and reserve.

    Kept by `uploads.quotas` (reserve at insert, settle at each `lifecycle.transition`), so the
    quota check reads one row, however many uploads the user has.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="upload_usage"
    )
    bytes_reserved = models.BigIntegerField(default=0, help_text="The bounds of pending uploads' policies.")
    bytes_stored = models.BigIntegerField(default=0, help_text="Sizes of complete uploads.")
    pending = models.IntegerField(default=0, help_text="Pending uploads.")
    # Bumped in the transaction of every insert, status change and delete of the user's uploads:
    # the page polls this one row, not an aggregate over the rows.
    list_version = models.BigIntegerField(default=0, help_text="Changes whenever the user's list does.")

    def __str__(self) -> str:
        return f"usage of user {self.user_id}"


def _hash_token(raw: str) -> str:
    # Tokens are 256 random bits, so a fast hash is as safe as a slow one.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True)

    def find(self, raw: str) -> "ApiToken | None":
        """Return the active token whose secret is `raw`, or None."""
        return self.active().select_related("user").filter(key_hash=_hash_token(raw)).first()


class ApiToken(models.Model):
    """A personal API token for scripts; only its hash is stored."""

    PREFIX = "s3u_"
    HINT_LENGTH = 10

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, shown so people can tell their tokens apart.
    hint = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, *, user, name: str) -> tuple["ApiToken", str]:
        """Create a token and return it with its secret, which is never stored."""
        token = cls(user=user, name=name)
        raw = token.set_new_secret()
        token.save()
        return token, raw

    def set_new_secret(self) -> str:
        """Give the token a new secret and return it; only its hash is kept."""
        raw = self.PREFIX + secrets.token_urlsafe(32)
        self.key_hash = _hash_token(raw)
        self.hint = raw[: self.HINT_LENGTH]
        return raw

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class UsedFormTokenQuerySet(models.QuerySet):
    def expired(self, *, max_age: timedelta) -> "UsedFormTokenQuerySet":
        """Receipts of tokens too old to be accepted anyway: safe to forget."""
        return self.filter(used_at__lt=timezone.now() - max_age)


class UsedFormToken(models.Model):
    """A no-JavaScript finish token that has been used: the receipt that makes it single use.

    Kept apart from `Upload` so deleting the upload doesn't make its token good again (a replay
    after delete would otherwise record whatever sits in the folder by then). Forgotten once the
    token has expired.
    """

    upload_id = models.UUIDField(primary_key=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    used_at = models.DateTimeField(default=timezone.now)

    objects = UsedFormTokenQuerySet.as_manager()

    class Meta:
        indexes = [
            # Forgetting expired receipts: WHERE used_at < ?.
            models.Index(fields=["used_at"], name="usedformtoken_used_at_idx"),
        ]

    def __str__(self) -> str:
        return f"form upload {self.upload_id}"


# Webhook endpoints and their delivery log live in their own module.
from .webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402

__all__ = ["ApiToken", "Processing", "Scan", "Upload", "UsedFormToken", "WebhookDelivery", "WebhookEndpoint"]
