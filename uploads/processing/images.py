"""Images through Pillow: metadata, and an upright WebP thumbnail without EXIF.

The pixel limit (`UPLOADS_MAX_IMAGE_PIXELS`) is checked from the header, before any pixel is
decoded, so a decompression bomb costs nothing; Pillow's warning zone counts as a refusal.
"""

from __future__ import annotations

import io
import warnings
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ProcessingRefused

WEBP_QUALITY = 80


@contextmanager
def open_image(path: Path):
    Image.MAX_IMAGE_PIXELS = settings.UPLOADS_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                yield image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ProcessingRefused(
            f"The image has more pixels than allowed ({settings.UPLOADS_MAX_IMAGE_PIXELS:,})."
        ) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ProcessingRefused(f"The image could not be read ({type(e).__name__}).") from e


def image_metadata(path: Path) -> dict:
    with open_image(path) as image:
        width, height = image.size
        orientation = image.getexif().get(0x0112, 1)
        metadata = {
            "width": width,
            "height": height,
            "format": (image.format or "").lower(),
            "frames": getattr(image, "n_frames", 1),
        }
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn: shown the other way round
        metadata["width"], metadata["height"] = height, width
    if orientation != 1:
        metadata["orientation"] = orientation
    return metadata


def image_thumbnail(path: Path) -> tuple[bytes, int, int]:
    with open_image(path) as image:
        return webp_thumbnail(image)


def webp_thumbnail(image: Image.Image) -> tuple[bytes, int, int]:
    """Fit `image` in the thumbnail square, upright, as WebP with no metadata; (bytes, w, h)."""
    side = settings.UPLOADS_THUMBNAIL_SIZE
    # JPEG can decode at 1/2, 1/4, 1/8 scale: a 40 MP photo never needs its full pixels.
    image.draft("RGB", (side * 2, side * 2))
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    # No exif=, no icc_profile=: nothing of the original's metadata (GPS, camera) is carried over.
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue(), image.width, image.height
