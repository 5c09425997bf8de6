"""Uploads from a plain HTML form, for browsers without JavaScript.

The page is signed before the file is chosen, so the policy pins a fresh folder; the store
redirects the browser to the finish page, which trusts only its signed token and the store.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import lifecycle
from .content_types import guess_content_type, require_allowed_type
from .errors import (
    ContentTypeNotAllowed,
    ObjectInvalid,
    ObjectMissing,
    QuotaExceeded,
    StorageUnavailable,
    UploadError,
    UploadNotFound,
)
from .failures import failure_of
from .inspection import Rules, inspect
from .keys import clean_filename, upload_folder
from .models import Upload, UsedFormToken
from .processing.state import after_complete
from .quotas import require_room
from .rules import single_upload_limit
from .s3 import ObjectInfo, S3Client
from .serving import acl_for

logger = logging.getLogger(__name__)

FORM_TOKEN_SALT = "uploads.form-upload"
# How long after signing a form upload may finish: a large file can take a while to send.
# Shorter than cleanup's orphan grace, so cleanup never deletes a file a form may still finish.
FORM_TOKEN_MAX_AGE = 6 * 3600
# S3 puts the posted file's name where the key says `${filename}`; a store that doesn't leaves it.
FILENAME_VARIABLE = "${filename}"
# What a form upload is stored as: the form can't know the file's type when the page is signed,
# and the server decides the served type from the name anyway. So the plain URL of the object
# always downloads, and a store that ignored the policy's type shows at finish.
FORM_CONTENT_TYPE = "application/octet-stream"
FORM_CONTENT_DISPOSITION = "attachment"


@dataclass(frozen=True)
class FormUpload:
    """A policy for a plain HTML form: the browser picks the file after the page was signed."""

    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_size: int


def form_upload_start(*, owner, finish_url: Callable[[str], str]) -> FormUpload:
    """Sign a policy for a form that POSTs one file straight to S3, then lands on `finish_url(token)`.

    The token travels in the URL's path: AWS appends its own query to the redirect, but other
    stores (SeaweedFS, MinIO) replace the query, and a token there would be lost.

    The file's name and size are unknown when the page is signed, so the policy pins the key's
    folder (`<prefix>/<uuid>/`, S3 adds the name), the size range, the redirect, and a fixed
    type and disposition (`FORM_CONTENT_TYPE`, `FORM_CONTENT_DISPOSITION`).

    A live policy is room in the bucket, so it is a pending upload like a presign's: a placeholder
    record reserves a pending slot and the policy's bound (`TooManyPending`, `QuotaExceeded`), and
    `form_upload_finish` records the file on it. Only the no-JavaScript page's "Upload a file"
    step signs one (views.form_upload), never the page every visitor sees.
    """
    upload_id = uuid.uuid4()
    token = signing.dumps({"id": str(upload_id), "owner": owner.pk}, salt=FORM_TOKEN_SALT)
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    _placeholder(upload_id, owner=owner, expires_in=expires_in, reserve=True)
    post = S3Client().presigned_post(
        key=upload_folder(upload_id) + FILENAME_VARIABLE,
        content_type=FORM_CONTENT_TYPE,
        min_size=1,
        max_size=single_upload_limit(),
        expires_in=expires_in,
        acl=acl_for(False),
        content_disposition=FORM_CONTENT_DISPOSITION,
        success_action_redirect=finish_url(token),
    )
    return FormUpload(
        url=post.url,
        fields=post.fields,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        max_size=single_upload_limit(),
    )


def form_upload_finish(*, owner, token: str) -> Upload:
    """Record and complete the one file a form posted; only the signed token and S3 are trusted.

    The token names the upload; its folder follows from the id (S3 also appends `key` to the
    redirect, but that part of the URL is not signed). Exactly one object is recorded and any
    other in the folder deleted; its stored type, size and content are checked. The token is
    single use: finishing again answers the same upload (a reload), or, once it is deleted,
    not found; a used token never records anything again.
    """
    upload_id = _form_token_upload_id(token, owner=owner)
    if UsedFormToken.objects.filter(pk=upload_id).exists():
        existing = Upload.objects.owned_by(owner).filter(pk=upload_id).first()
        if existing is not None and existing.status != Upload.Status.DELETING:
            return existing  # the page was reloaded: finishing twice is harmless
        raise UploadNotFound("This upload link has already been used.")
    placeholder = Upload.objects.filter(pk=upload_id).first()
    if placeholder is not None and not _is_placeholder(placeholder, owner=owner):
        raise UploadNotFound("This upload link is not valid.")  # an id no form of ours signed
    try:
        return _record(upload_id, owner=owner, placeholder=placeholder)
    except StorageUnavailable:
        if placeholder is None:
            _leave_placeholder(upload_id, owner=owner)
        raise


def form_upload_settle(*, upload: Upload) -> Upload:
    """Finish the form upload an outage interrupted (for cleanup): record its file, or fail it."""
    try:
        return _record(upload.pk, owner=upload.owner, placeholder=upload)
    except (ObjectMissing, ObjectInvalid, ContentTypeNotAllowed, QuotaExceeded) as e:
        lifecycle.transition(upload, lifecycle.FAILED, from_=[lifecycle.PENDING], **failure_of(e))
        return upload


# The key a form upload's record holds while its file is not recorded yet (an outage at finish).
PLACEHOLDER_SUFFIX = "/" + FILENAME_VARIABLE


def is_unfinished_form_upload(key: str) -> bool:
    """Whether a record's key is the placeholder of a form upload whose file is not recorded yet."""
    return key.endswith(PLACEHOLDER_SUFFIX)


def placeholder_key(key: str) -> str:
    """The placeholder key of the folder an object is in."""
    return key.rsplit("/", 1)[0] + PLACEHOLDER_SUFFIX


def _leave_placeholder(upload_id: uuid.UUID, *, owner) -> None:
    """Remember a form upload whose finish met a store outage, so its file is recorded later.

    The finish page is the one place that knows whose upload a folder is; a retry of its link,
    or cleanup (`form_upload_settle`), records the file then, and the orphan sweep spares it.
    """
    with contextlib.suppress(IntegrityError):  # a concurrent finish left it first
        _placeholder(upload_id, owner=owner, expires_in=FORM_TOKEN_MAX_AGE, reserve=False)


def _placeholder(upload_id: uuid.UUID, *, owner, expires_in: int, reserve: bool) -> Upload:
    """The pending record of a form upload whose file is not recorded yet (see PLACEHOLDER_SUFFIX)."""
    now = timezone.now()
    with transaction.atomic():
        return lifecycle.create(
            reserve=reserve,
            id=upload_id,
            owner=owner,
            file=upload_folder(upload_id) + FILENAME_VARIABLE,
            original_filename="Form upload",
            content_type=FORM_CONTENT_TYPE,
            max_size=single_upload_limit(),
            status=Upload.Status.PENDING,
            created_at=now,
            expires_at=now + timedelta(seconds=expires_in),
        )


def _is_placeholder(upload: Upload, *, owner) -> bool:
    return (
        upload.owner_id == owner.pk
        and upload.status == Upload.Status.PENDING
        and is_unfinished_form_upload(upload.key)
    )


def _record(upload_id: uuid.UUID, *, owner, placeholder: Upload | None) -> Upload:
    """Check the one file in the upload's folder and record it complete (the token is used up)."""
    client = S3Client()
    info = _keep_one_object(client, upload_folder(upload_id))
    name = info.key.rsplit("/", 1)[-1]
    display_name = "upload" if name == FILENAME_VARIABLE else clean_filename(name)
    # The form can't declare a type per file; the server decides it from the name.
    content_type = guess_content_type(display_name)
    try:
        # A placeholder already reserved the policy's bound, which covers the file.
        info = _check_form_object(
            client, info, content_type=content_type, owner=None if placeholder else owner
        )
    except ObjectMissing:
        raise
    except UploadError as e:
        client.delete(info.key)
        if placeholder is not None:  # the record stays, failed, so its owner sees why
            lifecycle.transition(placeholder, lifecycle.FAILED, from_=[lifecycle.PENDING], **failure_of(e))
        raise
    now = timezone.now()
    fields = {
        "file": info.key,
        "original_filename": display_name,
        "content_type": content_type,
        "max_size": settings.UPLOADS_MAX_FILE_SIZE,
        "size": info.size,
        "etag": info.etag,
        "completed_at": now,
    }
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(upload_id=upload_id, owner=owner, used_at=now)
            if placeholder is None:  # a link signed before form policies had a record
                upload = lifecycle.create(
                    reserve=False,
                    id=upload_id,
                    owner=owner,
                    created_at=now,
                    status=Upload.Status.COMPLETE,
                    **fields,
                )
            elif lifecycle.transition(upload_id, lifecycle.COMPLETE, from_=[lifecycle.PENDING], **fields):
                upload = Upload.objects.get(pk=upload_id)
            else:
                raise IntegrityError("settled meanwhile")
            after_complete(upload)
    except IntegrityError:  # a concurrent finish of the same token won
        winner = Upload.objects.owned_by(owner).filter(pk=upload_id).first()
        if winner is None:
            raise UploadNotFound("This upload link has already been used.") from None
        return winner
    UsedFormToken.objects.expired(max_age=timedelta(seconds=FORM_TOKEN_MAX_AGE)).delete()
    return upload


def _form_token_upload_id(token: str, *, owner) -> uuid.UUID:
    """The upload id a finish token was signed for; anything else about it is a not-found."""
    try:
        signed = signing.loads(token, salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
        upload_id, signed_owner = uuid.UUID(str(signed["id"])), signed["owner"]
    # Without the key a token can't pass the signature; with a leaked key, any payload can: a
    # malformed one is refused like a bad signature, never a 500.
    except (signing.BadSignature, ValueError, TypeError, KeyError, zlib.error):
        raise UploadNotFound("This upload link is not valid or has expired.") from None
    if signed_owner != owner.pk:
        raise UploadNotFound("This upload link belongs to someone else.")
    return upload_id


def _keep_one_object(client: S3Client, folder: str) -> ObjectInfo:
    """Return the object a form posted to `folder` and delete every other one under it.

    A policy lives minutes and S3 names the key: a page could post several files, or nest keys.
    Only a file directly in the folder counts; of several, the newest.
    """
    objects = list(client.iter_objects(prefix=folder))
    direct = [obj for obj in objects if "/" not in obj.key[len(folder) :]]
    chosen = max(
        direct, key=lambda obj: (obj.last_modified is not None, obj.last_modified, obj.key), default=None
    )
    extra = [obj.key for obj in objects if obj is not chosen]
    if extra:
        client.delete_many(extra)
    if chosen is None:
        raise ObjectMissing("The file has not arrived in storage.")
    return chosen


def _check_form_object(client: S3Client, listed: ObjectInfo, *, content_type: str, owner) -> ObjectInfo:
    """Refuse a form's object that the policy should have refused, or whose content isn't its type;
    return it as the store holds it (the one inspection: `inspection.inspect`)."""
    require_allowed_type(content_type)
    rules = Rules(
        content_type=content_type,
        max_size=settings.UPLOADS_MAX_FILE_SIZE,
        # A store that ignored the policy's fields stored a type the browser chose. (SeaweedFS
        # stores the file part's own type; that is harmless when it is the one we record.)
        stored_types=(FORM_CONTENT_TYPE, content_type),
    )
    found = inspect(listed.key, rules, client=client)
    if found.problem is not None:
        raise found.problem
    if owner is not None:
        require_room(owner=owner, size=found.stored.size, pending=False)
    return found.stored
