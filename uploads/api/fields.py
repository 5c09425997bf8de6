"""The API operation behind `UploadField`'s widget (mounted by project/api.py at /api/field-uploads).

One operation: start an upload for a field. The rest of the protocol (parts, complete, delete) is
the uploads API's, so the widget runs the page's own client code (upload-client.js).
"""

from __future__ import annotations

from ninja import Field, Router, Status

from .. import errors, field_uploads
from .answers import raises
from .auth import PerUserRateLimit
from .router import UPLOAD_START_ERRORS
from .schemas import DirectUploadOut, UploadIn

router = Router(tags=["upload fields"])


class FieldUploadIn(UploadIn):
    field: str = Field(..., max_length=4096, description="The field's signed spec, as its widget renders it.")


class FieldUploadOut(DirectUploadOut):
    value: str = Field(
        ..., description="The form's value once complete: the id signed for you and the field."
    )


@router.post(
    "",
    response={201: FieldUploadOut},
    summary="Start an upload for a model's UploadField, within its limits",
    url_name="field_upload_start",
    throttle=PerUserRateLimit("UPLOADS_RATE_PRESIGN"),
)
@raises(errors.InvalidFieldToken, *UPLOAD_START_ERRORS)
def start_field_upload(request, payload: FieldUploadIn):
    started = field_uploads.field_upload_start(
        owner=request.auth,
        field=payload.field,
        filename=payload.filename,
        content_type=payload.content_type,
        size=payload.size,
        checksum_sha256=payload.checksum_sha256,
    )
    answer = {name: getattr(started.direct, name) for name in DirectUploadOut.model_fields}
    return Status(201, {**answer, "value": started.value})
