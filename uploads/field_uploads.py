"""Starting an upload for a model's `UploadField` (its widget calls this through `api/fields.py`).

The same start as any upload (`services.upload_start`: policy, quota, multipart by size), within
the field's own limits, which come from its signed spec and never from the browser. The answer
adds the value the form will post back: the upload's id signed for this user and this field.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import services
from .content_types import clean_content_type
from .errors import ContentTypeNotAllowed, InvalidFieldToken
from .field_signing import FieldSpec, ForgedValue, sign_value
from .models import Upload


@dataclass(frozen=True)
class FieldUpload:
    direct: services.DirectUpload
    value: str  # what the widget puts in the form once the upload is complete


def field_upload_start(
    *, owner, field: str, filename: str, content_type: str, size: int, checksum_sha256: str = ""
) -> FieldUpload:
    try:
        spec = FieldSpec.from_token(field)
    except ForgedValue as e:
        raise InvalidFieldToken(str(e)) from None
    declared = clean_content_type(content_type)
    if not spec.allows_type(declared):
        raise ContentTypeNotAllowed(
            f"Files of type {declared} are not accepted here; this field takes {', '.join(spec.content_types)}."
        )
    direct = services.upload_start(
        owner=owner,
        filename=filename,
        content_type=declared,
        size=size,
        max_size=spec.size_limit,
        prefix=spec.prefix or None,
        checksum_sha256=checksum_sha256,
    )
    # Marked for its field, so cleanup can tell an upload no record took (an unsaved form).
    Upload.objects.filter(pk=direct.upload.pk).update(for_field=spec.label)
    direct.upload.for_field = spec.label
    return FieldUpload(direct, sign_value(upload_id=direct.upload.pk, label=spec.label, user_pk=owner.pk))
