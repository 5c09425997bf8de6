"""The trust steps, run first on every upload's bytes: its SHA-256, then the malware scan.

No later step (metadata, thumbnails) reads bytes these have not passed, and nothing serves an
upload whose scan is not clean while a scanner is set (`require_servable`, the one home of that
rule, used by every link: the API's /url, the page, the widget, the Python interface).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

from ..errors import Infected, ScanPending
from ..models import Processing, Scan, Upload
from . import scanner
from .errors import UploadRefused

logger = logging.getLogger("uploads.processing")

CHUNK_SIZE = 1024 * 1024


def sha256_base64(path: Path) -> str:
    """The file's SHA-256 as S3 writes it (x-amz-checksum-sha256): base64 of the 32-byte digest."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


def verify_checksum(source, outcome) -> None:
    """Record the stored bytes' SHA-256; refuse them if it differs from the one the client declared."""
    outcome.checksum_sha256 = sha256_base64(source.path)
    declared = source.upload.declared_sha256
    if declared and declared != outcome.checksum_sha256:
        raise UploadRefused(
            "checksum_mismatch",
            "The stored file's SHA-256 differs from the one your browser computed: it was altered on the way.",
            checksum_sha256=outcome.checksum_sha256,
        )


def scan(source, outcome) -> None:
    """Scan the stored bytes when a scanner is set; infected files are refused, with the signature's name.

    `ScannerUnavailable` propagates: the task retries, then records `scan: "error"`.
    """
    if not scanner.enabled():
        outcome.scan = Scan.SKIPPED
        return
    verdict = scanner.scan_file(source.path)
    if not verdict.clean:
        logger.warning("Upload %s is infected: %s", source.upload.pk, verdict.signature)
        raise UploadRefused(
            "infected",
            f"The file contains malware ({verdict.signature}).",
            scan=Scan.INFECTED,
            checksum_sha256=outcome.checksum_sha256,
        )
    outcome.scan = Scan.CLEAN


TRUST_STEPS = (verify_checksum, scan)


def scan_at_complete() -> str:
    """The `scan` a newly complete upload starts with."""
    return Scan.PENDING if scanner.enabled() else Scan.SKIPPED


def is_servable(upload: Upload) -> bool:
    """Whether the page may link to the file (download, preview, share)."""
    try:
        require_servable(upload)
    except (Infected, ScanPending):
        return False
    return upload.status == Upload.Status.COMPLETE


def scan_shown(upload: Upload) -> str:
    """What the page says of the scan: "scanning" (the worker's turn is coming), "unscanned" (the
    scanner gave no verdict, or processing stopped first: staff's "Scan again"), or ""."""
    if not scanner.enabled() or upload.status != Upload.Status.COMPLETE or upload.scan == Scan.CLEAN:
        return ""
    if upload.scan == Scan.PENDING and upload.processing in (Processing.QUEUED, Processing.RUNNING):
        return "scanning"
    return "unscanned" if upload.scan in (Scan.PENDING, Scan.ERROR) else ""


def require_servable(upload: Upload) -> None:
    """Raise unless the upload's bytes may be handed out: never infected, and clean when scanned."""
    if upload.status == Upload.Status.FAILED and upload.failure_code == "infected":
        raise Infected()
    if upload.status == Upload.Status.COMPLETE and scanner.enabled() and upload.scan != Scan.CLEAN:
        raise ScanPending()
