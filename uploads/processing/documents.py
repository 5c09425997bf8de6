"""PDFs through pypdfium2 (PDFium, Chrome's PDF engine): page count, the first page as thumbnail."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from django.conf import settings

from .errors import ProcessingRefused
from .images import webp_thumbnail


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        raise ProcessingRefused(f"The PDF could not be read ({e}).") from e


def pdf_metadata(path: Path) -> dict:
    document = _open(path)
    try:
        return {"pages": len(document)}
    finally:
        document.close()


def pdf_thumbnail(path: Path) -> tuple[bytes, int, int] | None:
    document = _open(path)
    try:
        if not len(document):
            return None
        page = document[0]
        width, height = page.get_size()  # points
        # Render just large enough for the thumbnail (twice, for a sharp downscale).
        scale = min(2 * settings.UPLOADS_THUMBNAIL_SIZE / max(width, height, 1), 4.0)
        image = page.render(scale=scale).to_pil()
        return webp_thumbnail(image)
    finally:
        document.close()
