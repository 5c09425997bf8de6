"""`DirectUploadWidget`: a file input that sends the file straight to S3, for `UploadField`.

With JavaScript (static/uploads/upload-widget.js, on the page's own transport.js, upload-client.js
and multipart.js) the chosen file goes to the store with progress and Cancel, one request or in parts
by size as the server decides; the form then posts only the value the server signed. The file
input has no name, so the bytes never reach Django even if a script misbehaves. Without
JavaScript the widget says that choosing a file needs it, and the current file, with Clear,
still works. No inline script or style: the page's Content-Security-Policy holds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

from .errors import UploadError
from .field_signing import FieldSpec, peek_value
from .models import Upload

HASH_WORKER = "uploads/hash-worker.js"
HASH_WASM = "vendor/hash-wasm-4.13.0/sha256.umd.min.js"


def hashing_script(**attributes) -> forms.Script:
    """hashing.js with the static URLs of its worker and of hash-wasm, for the widget and the page
    alike (`attributes`: e.g. defer)."""
    return forms.Script(
        "uploads/hashing.js",
        **{"data-worker": static(HASH_WORKER), "data-lib": static(HASH_WASM)},
        **attributes,
    )


@dataclass(frozen=True)
class Cleared:
    """The bound value of a widget whose Clear box was ticked: the file it would clear."""

    initial: object


class DirectUploadWidget(forms.Widget):
    template_name = "uploads/widgets/direct_upload.html"
    spec: FieldSpec | None = None  # set by UploadFormField

    @property
    def media(self) -> forms.Media:
        # hashing.js first, as on the page: the file's SHA-256 (and each part's) is declared.
        return forms.Media(
            js=(
                hashing_script(),
                "uploads/transport.js",
                "uploads/sizes.js",
                "uploads/upload-client.js",
                "uploads/multipart.js",
                "uploads/upload-widget.js",
            ),
            css={"all": ("uploads/upload-widget.css",)},
        )

    def clear_name(self, name: str) -> str:
        return f"{name}-clear"

    def value_from_datadict(self, data, files, name):
        value = data.get(name) or None
        if value is None and data.get(self.clear_name(name)):
            return False
        return value

    def value_omitted_from_data(self, data, files, name) -> bool:
        return name not in data and self.clear_name(name) not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, None, attrs)
        cleared = isinstance(value, Cleared)
        if cleared:
            value = value.initial
        signed = value if isinstance(value, str) and peek_value(value) else ""
        current = _upload_of(peek_value(signed) if signed else value)
        spec = self.spec or FieldSpec(label="")
        context["widget"].update(
            {
                "signed": signed,
                "cleared": cleared,
                "current": _describe(current) if current else None,
                "clear_name": self.clear_name(name),
                "spec_token": spec.token(),
                "max_size": spec.size_limit,
                "accept": ",".join(spec.content_types),
                "start_url": reverse("api:field_upload_start"),
                "api_url": reverse("api:create_upload"),
                "multipart_threshold": settings.UPLOADS_MULTIPART_THRESHOLD,
            }
        )
        return context

    def id_for_label(self, id_):
        return id_


def _upload_of(value) -> Upload | None:
    if isinstance(value, Upload):
        return value
    try:
        pk = uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
    return Upload.objects.filter(pk=pk).first() if pk else None


def _describe(upload: Upload) -> dict:
    """What the widget shows of a file: name, size, and for a complete one a link and thumbnail."""
    from . import services
    from .processing.results import thumbnail_out

    url = ""
    if upload.status == Upload.Status.COMPLETE:
        try:
            url = services.upload_download_url(upload=upload).url  # signed locally: no S3 request
        except UploadError:
            url = ""
    # The worker's WebP once processed (uploads/processing); until then a raster original.
    processed = thumbnail_out(upload) if url else None
    return {
        "name": upload.original_filename,
        "size": upload.size or upload.expected_size or 0,
        "url": url,
        "thumbnail": processed["url"] if processed else (url if upload.is_image else ""),
        "complete": upload.status == Upload.Status.COMPLETE,
    }
