"""The ordered steps run on each upload's bytes, and the run that feeds them.

The object is streamed once (never whole in memory) through the SHA-256 and the scanner, and to a
temporary file when later steps will read it; every step reads that and adds to one `Outcome`,
which is recorded only when all steps have passed. Steps write nothing but their derived objects,
at keys fixed by the upload (see `keys.derived_key`), so running the pipeline twice (a redelivered
task) overwrites the same objects with the same bytes: no duplicates, no half-recorded state.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from ..errors import ObjectMissing
from ..keys import DERIVED_NAMES, derived_key
from ..models import Upload
from ..s3 import S3Client
from .documents import pdf_metadata, pdf_thumbnail
from .errors import ProcessingRefused
from .images import image_metadata, image_thumbnail
from .kinds import kind_of
from .media import probe, video_thumbnail
from .trust import TRUST_STEPS, StoredBytes, read_stored

THUMBNAIL_NAME = DERIVED_NAMES[0]  # "thumbnail.webp"
THUMBNAIL_TYPE = "image/webp"


@dataclass
class Source:
    """What every step reads: the upload, a local copy of its bytes, a scratch folder."""

    upload: Upload
    kind: str | None  # None: a type with nothing to derive (only the trust steps run)
    path: Path
    workdir: Path
    client: S3Client
    stored: StoredBytes  # what the one read of the object found: its SHA-256, the scanner's verdict


@dataclass
class Outcome:
    metadata: dict = field(default_factory=dict)
    thumbnail: dict | None = None
    checksum_sha256: str = ""
    scan: str = ""


Step = Callable[[Source, Outcome], None]


def read_metadata(source: Source, outcome: Outcome) -> None:
    readers = {"image": image_metadata, "pdf": pdf_metadata, "video": probe, "audio": probe}
    metadata = readers[source.kind](source.path)
    if source.kind == "audio":
        metadata = {"duration": metadata["duration"]} if "duration" in metadata else {}
    outcome.metadata.update(metadata)


def make_thumbnail(source: Source, outcome: Outcome) -> None:
    if source.kind == "image":
        made = image_thumbnail(source.path)
    elif source.kind == "pdf":
        made = pdf_thumbnail(source.path)
    elif source.kind == "video":
        made = video_thumbnail(source.path, source.workdir, duration=outcome.metadata.get("duration"))
    else:
        made = None  # audio: nothing to show
    key = derived_key(source.upload.key, source.upload.pk, THUMBNAIL_NAME)
    if made is None or key is None:
        return
    body, width, height = made
    source.client.put_bytes(key, body, content_type=THUMBNAIL_TYPE, cache_control="private, max-age=86400")
    outcome.thumbnail = {"key": key, "width": width, "height": height, "content_type": THUMBNAIL_TYPE}


# The pipeline, in order. The trust steps (uploads/processing/trust.py: the SHA-256 of the stored
# bytes, the malware scan) go FIRST and run on every upload: no later step reads bytes they have
# not passed. A step refuses a file by raising ProcessingRefused (UploadRefused fails the upload
# itself); StorageUnavailable and ScannerUnavailable make the task retry.
DERIVE_STEPS: tuple[Step, ...] = (read_metadata, make_thumbnail)
STEPS: tuple[Step, ...] = (*TRUST_STEPS, *DERIVE_STEPS)


def run(upload: Upload, *, steps: tuple[Step, ...] | None = None) -> Outcome:
    """Read the upload's object once and run every step on it; raise on the first refusal.

    The trust steps judge every upload, whatever its size: the read streams the object through the
    hash and the scanner. Only a file the later steps will read (within UPLOADS_PROCESSING_MAX_SIZE,
    of a kind with something to derive) is also copied to a temporary file for them.
    """
    kind = kind_of(upload.content_type, upload.size)  # None past UPLOADS_PROCESSING_MAX_SIZE
    client = S3Client(timeouts="batch")
    outcome = Outcome()
    size = upload.size if upload.size is not None else settings.UPLOADS_MAX_FILE_SIZE
    with tempfile.TemporaryDirectory(prefix="upload-processing-") as scratch:
        workdir = Path(scratch)
        path = workdir / "original"
        with path.open("wb") if kind is not None else nullcontext() as copy:
            try:
                chunks = client.object_chunks(upload.key, etag=upload.etag, max_bytes=size)
                stored = read_stored(
                    chunks,
                    size=size,
                    copy=copy,
                    part_size=upload.part_size or 0,
                    parts=(upload.declared_part_sha256 or {}).keys(),
                )
            except (ObjectMissing, ValueError) as e:  # gone or replaced; past the size it may have
                raise ProcessingRefused(str(e)) from e
        source = Source(upload=upload, kind=kind, path=path, workdir=workdir, client=client, stored=stored)
        if steps is None:
            steps = STEPS if kind is not None else TRUST_STEPS
        try:
            for step in steps:
                step(source, outcome)
        except ProcessingRefused as e:
            # What the trust steps found before the refusal is recorded all the same.
            e.checksum_sha256 = e.checksum_sha256 or outcome.checksum_sha256
            e.scan = e.scan or outcome.scan or None
            raise
    return outcome
