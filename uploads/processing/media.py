"""Audio and video through Debian's ffmpeg: ffprobe for duration and size, ffmpeg for a frame.

Both run as subprocesses with a time limit (`UPLOADS_FFMPEG_TIMEOUT`) on the local copy; only
their JSON or image output is read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from PIL import Image

from .errors import ProcessingRefused
from .images import webp_thumbnail


def _run(command: list[str]) -> bytes:
    if shutil.which(command[0]) is None:
        raise ProcessingRefused(f"{command[0]} is not installed on the worker (apt-get install ffmpeg).")
    try:
        completed = subprocess.run(
            command, capture_output=True, timeout=settings.UPLOADS_FFMPEG_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise ProcessingRefused(f"{command[0]} took longer than {settings.UPLOADS_FFMPEG_TIMEOUT} s.") from e
    if completed.returncode:
        raise ProcessingRefused(f"{command[0]} could not read the file.")
    return completed.stdout


def probe(path: Path) -> dict:
    """Duration in seconds, and width/height of the first video stream if there is one."""
    output = _run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
    )
    info = json.loads(output or b"{}")
    metadata: dict = {}
    duration = info.get("format", {}).get("duration")
    if duration not in (None, "N/A"):
        metadata["duration"] = round(float(duration), 3)
    video = next(
        (
            s
            for s in info.get("streams", [])
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    if video and video.get("width") and video.get("height"):
        metadata["width"], metadata["height"] = int(video["width"]), int(video["height"])
    if not metadata:
        raise ProcessingRefused("No audio or video found in the file.")
    return metadata


def video_thumbnail(path: Path, workdir: Path, *, duration: float | None) -> tuple[bytes, int, int]:
    """A frame from a tenth of the way in (the first frame is often black), as a WebP thumbnail."""
    at = min((duration or 0) / 10, 5.0)
    frame = workdir / "frame.png"
    side = settings.UPLOADS_THUMBNAIL_SIZE
    _run(
        [
            "ffmpeg", "-v", "error", "-y", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
            "-vf", f"scale={side * 2}:{side * 2}:force_original_aspect_ratio=decrease", str(frame),
        ]
    )  # fmt: skip
    if not frame.exists():
        raise ProcessingRefused("ffmpeg found no frame to show.")
    with Image.open(frame) as image:
        return webp_thumbnail(image)
