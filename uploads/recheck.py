""" "Check with S3 again" (the admin's action) for any number of uploads, within one request's deadline.

A pending upload is examined as complete would (its parts joined, then the one inspection) and
settled; a complete one is looked up, and marked failed if its object is gone (as
`cleanup_uploads --verify` does: a dead link should say so) or reported "replaced" if its ETag
changed. The store requests run in parallel, under the request's deadline (`deadline`); the
records are settled here, in the request's own thread. Rows not checked by the deadline are
counted as such and left as they were, for the next check or cleanup.
"""

from __future__ import annotations

from collections import Counter

from . import services
from .deadline import map_within_deadline
from .errors import UploadError
from .models import Upload
from .s3 import S3Client

NOT_CHECKED = "not checked in time"


def uploads_recheck(uploads) -> dict[str, int]:
    """Check pending and complete uploads with S3; return how many ended each way."""
    rows = [upload for upload in uploads if upload.status in (Upload.Status.PENDING, Upload.Status.COMPLETE)]
    outcomes: Counter[str] = Counter()
    for upload, found in map_within_deadline(_look, rows):
        outcomes[_settle(upload, found)] += 1
    if unchecked := len(rows) - outcomes.total():
        outcomes[NOT_CHECKED] = unchecked
    return dict(outcomes)


def _look(upload: Upload):
    """The store's side only (no database: this runs in a worker thread)."""
    if upload.status == Upload.Status.COMPLETE:
        return S3Client().head(upload.key)
    return services.upload_examine(upload=upload)


def _settle(upload: Upload, found) -> str:
    if isinstance(found, UploadError):
        return found.code
    if isinstance(found, Exception):
        raise found
    if upload.status == Upload.Status.COMPLETE:
        return services.upload_verified(upload=upload, info=found)
    try:
        services.upload_settle(upload=upload, inspection=found)
    except UploadError as e:
        return e.code
    return "completed"
