"""The ordered steps run on each upload's bytes, and the run that feeds them.

The object is streamed once to a temporary file (never whole in memory); every step reads that
copy and adds to one `Outcome`, which is recorded only when all steps have passed. Steps write
nothing but their derived objects, at keys fixed by the upload (see `validation.derived_key`),
so running the pipeline twice (a redelivered task) overwrites the same objects with the same
bytes: no duplicates, no half-recorded state.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from ..models import Upload
from ..s3 import S3Client
from ..validation import DERIVED_NAMES, derived_key
from .documents import pdf_metadata, pdf_thumbnail
from .errors import ProcessingRefused
from .images import image_metadata, image_thumbnail
from .kinds import kind_of
from .media import probe, video_thumbnail

THUMBNAIL_NAME = DERIVED_NAMES[0]  # "thumbnail.webp"
THUMBNAIL_TYPE = "image/webp"


@dataclass
class Source:
    """What every step reads: the upload, a local copy of its bytes, a scratch folder."""

    upload: Upload
    kind: str
    path: Path
    workdir: Path
    client: S3Client


@dataclass
class Outcome:
    metadata: dict = field(default_factory=dict)
    thumbnail: dict | None = None


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


# The pipeline, in order. Trust steps (issue 25: the SHA-256 of the stored bytes, the malware
# scan) go FIRST, before `read_metadata`: no later step may read bytes they have not passed. A
# step refuses a file by raising ProcessingRefused; StorageUnavailable makes the task retry.
TRUST_STEPS: tuple[Step, ...] = ()
STEPS: tuple[Step, ...] = (*TRUST_STEPS, read_metadata, make_thumbnail)


def run(upload: Upload, *, steps: tuple[Step, ...] | None = None) -> Outcome:
    """Download the upload's object once and run every step on it; raise on the first refusal."""
    kind = kind_of(upload.content_type, upload.size)
    if kind is None:
        raise ProcessingRefused("This type of file is not processed.")
    client = S3Client(timeouts="batch")
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="upload-processing-") as scratch:
        workdir = Path(scratch)
        path = workdir / "original"
        with path.open("wb") as target:
            try:
                found = client.download_to(
                    upload.key, target, etag=upload.etag, max_bytes=settings.UPLOADS_PROCESSING_MAX_SIZE
                )
            except ValueError as e:
                raise ProcessingRefused(str(e)) from e
        if not found:
            raise ProcessingRefused("The stored file is gone, or was replaced after it was verified.")
        source = Source(upload=upload, kind=kind, path=path, workdir=workdir, client=client)
        for step in STEPS if steps is None else steps:
            step(source, outcome)
    return outcome
