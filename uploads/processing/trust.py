"""The trust steps, run first on every upload's bytes: its SHA-256, then the malware scan.

No later step (metadata, thumbnails) reads bytes these have not passed, and nothing serves an
upload whose scan is not clean while a scanner is set (`require_servable`, the one home of that
rule, used by every link: the API's /url, the page, the widget, the Python interface).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings

from ..errors import Infected, ScanPending
from ..failures import PART_CHECKSUM_MISMATCH, failure_reason
from ..models import Processing, Scan, Upload
from ..templatetags.sizes import binary_size
from . import scanner
from .errors import ProcessingRefused, UploadRefused

logger = logging.getLogger("uploads.processing")

CHUNK_SIZE = 1024 * 1024


def _base64(digest) -> str:
    """A digest as S3 writes x-amz-checksum-sha256: base64 of its 32 bytes."""
    return base64.b64encode(digest.digest()).decode("ascii")


@dataclass(frozen=True)
class StoredBytes:
    """What one read of the stored object found, for the trust steps to judge."""

    checksum_sha256: str
    verdict: scanner.Verdict | None  # None: not scanned (no scanner, or `unscanned` says why)
    unscanned: str = ""
    part_sha256: dict[str, str] = field(default_factory=dict)  # the parts asked for, by number


class _PartDigests:
    """The SHA-256 of the parts `numbers` (strings) of `part_size` bytes, fed the object in order."""

    def __init__(self, part_size: int, numbers: set[str]):
        self._part_size, self._numbers = part_size, numbers
        self._offset = 0
        self._digest = None
        self.found: dict[str, str] = {}

    def update(self, data: bytes) -> None:
        while data:
            number, within = divmod(self._offset, self._part_size)
            take = data[: self._part_size - within]
            if within == 0:
                self._digest = hashlib.sha256() if str(number + 1) in self._numbers else None
            if self._digest is not None:
                self._digest.update(take)
                if within + len(take) == self._part_size:
                    self.found[str(number + 1)] = _base64(self._digest)
            self._offset += len(take)
            data = data[len(take) :]

    def finish(self) -> dict[str, str]:
        """The digests, the last (shorter) part's included."""
        number, within = divmod(self._offset, self._part_size)
        if within and self._digest is not None:
            self.found[str(number + 1)] = _base64(self._digest)
        return self.found


class _Tee:
    """The object's chunks as a readable stream (clamd pulls from it), each byte hashed once (and
    once more per declared part) and copied for the later steps on its way."""

    def __init__(self, chunks: Iterator[bytes], copy: BinaryIO | None, parts: _PartDigests | None = None):
        self._chunks, self._copy, self._parts = chunks, copy, parts
        self._digest = hashlib.sha256()
        self._left = b""

    def read(self, size: int = -1) -> bytes:
        if not self._left:
            self._left = next(self._chunks, b"")
            self._digest.update(self._left)
            if self._parts is not None:
                self._parts.update(self._left)
            if self._copy is not None:
                self._copy.write(self._left)
        cut = len(self._left) if size is None or size < 0 else size
        chunk, self._left = self._left[:cut], self._left[cut:]
        return chunk

    def drain(self) -> str:
        """Read what is left (nothing once clamd had it all); return the whole object's SHA-256."""
        while self.read(CHUNK_SIZE):
            pass
        return _base64(self._digest)

    def part_digests(self) -> dict[str, str]:
        return self._parts.finish() if self._parts is not None else {}


def scan_limit_sentence() -> str:
    return f"Too large to scan (limit {binary_size(settings.UPLOADS_SCAN_MAX_SIZE)})."


def read_stored(
    chunks: Iterator[bytes],
    *,
    size: int,
    copy: BinaryIO | None,
    part_size: int = 0,
    parts: Iterable[str] = (),
) -> StoredBytes:
    """Read the object once, whatever its size: hash every byte (and each of `parts`, the numbers
    of parts of `part_size` bytes whose digests were declared), stream it to the scanner (when one
    is set and the file is within UPLOADS_SCAN_MAX_SIZE), and copy it to `copy` for the later steps."""
    wanted = set(parts)
    tee = _Tee(chunks, copy, _PartDigests(part_size, wanted) if part_size and wanted else None)
    verdict, unscanned = None, ""
    if scanner.enabled() and size > settings.UPLOADS_SCAN_MAX_SIZE:
        unscanned = scan_limit_sentence()  # clamd would refuse it past its StreamMaxLength anyway
    elif scanner.enabled():
        try:
            verdict = scanner.scan_stream(tee)
        except scanner.TooLargeToScan:
            unscanned = "Too large to scan: ClamAV's StreamMaxLength is below UPLOADS_SCAN_MAX_SIZE."
    return StoredBytes(tee.drain(), verdict, unscanned, tee.part_digests())


def verify_checksum(source, outcome) -> None:
    """Record the stored bytes' SHA-256; refuse them if it differs from the one the client declared,
    or if any part of a multipart upload differs from the digest declared for it."""
    outcome.checksum_sha256 = source.stored.checksum_sha256
    declared = source.upload.declared_sha256
    if declared and declared != outcome.checksum_sha256:
        raise UploadRefused(
            "checksum_mismatch", failure_reason("checksum_mismatch"), checksum_sha256=outcome.checksum_sha256
        )
    declared_parts = source.upload.declared_part_sha256 or {}
    for number in sorted(declared_parts, key=int):
        if source.stored.part_sha256.get(number) != declared_parts[number]:
            raise UploadRefused(
                "checksum_mismatch",
                PART_CHECKSUM_MISMATCH.format(number=number),
                checksum_sha256=outcome.checksum_sha256,
            )


def scan(source, outcome) -> None:
    """Judge the scanner's verdict when a scanner is set; infected files are refused, with the
    signature's name. A file the scanner can never take ends as scan "error" (never served).

    `ScannerUnavailable` was raised while reading: the task retries, then records `scan: "error"`.
    """
    if not scanner.enabled():
        outcome.scan = Scan.SKIPPED
        return
    verdict = source.stored.verdict
    if verdict is None:
        raise ProcessingRefused(source.stored.unscanned, scan=Scan.ERROR)
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
        if upload.scan == Scan.ERROR:
            raise ScanPending(
                f"The file could not be checked for malware ({upload.processing_error}); it is not served."
            )
        raise ScanPending()
