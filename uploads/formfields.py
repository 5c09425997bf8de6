"""The form side of `UploadField`: `UploadFormField` and `UploadFormMixin`.

The widget posts one of three things: nothing (keep the current file), Clear, or a value the
presign endpoint signed for one user and one field (`uploads.field_signing`). `clean()` trusts
only that signature and the record: the upload must be the posting user's, complete, made for
this field and within its limits. So a form needs to know who posts it: `UploadFormMixin` takes
`user=`, and `uploads.fields_admin.UploadFieldsAdminMixin` gives the admin's forms the request's.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.template.defaultfilters import filesizeformat

from .field_signing import FieldSpec, ForgedValue, read_value
from .models import Upload
from .widgets import Cleared, DirectUploadWidget


class UploadFormField(forms.Field):
    widget = DirectUploadWidget
    default_error_messages = {
        "signed_out": "Sign in to upload a file.",
        "missing": "The uploaded file is no longer there; choose it again.",
        "not_yours": "This file was uploaded by someone else; choose your own file.",
        "pending": "The file has not finished uploading; wait for it to finish, or choose it again.",
        "failed": "The file could not be stored{reason}; choose another.",
        "other_field": "This file was uploaded for another field; choose the file again.",
        "too_large": "The file is {size}; this field takes files up to {limit}.",
        "content_type": "Files of type {content_type} are not accepted here.",
    }

    def __init__(self, *, spec: FieldSpec, user=None, **kwargs):
        self.spec = spec
        self.user = user
        super().__init__(**kwargs)
        self.widget.spec = spec

    def _clean_bound_field(self, bf):
        # As Django's FileField: "no change" needs the initial value.
        return self.clean(bf.initial if self.disabled else bf.data, bf.initial)

    def clean(self, value, initial=None):
        if isinstance(value, str) and value:
            return self.accept(value)
        if value is False:  # Clear
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        current = _as_upload(initial)
        if current is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return current

    def accept(self, value: str) -> Upload:
        """The upload `value` names, if this user may put it in this field; ValidationError if not."""
        if self.user is None:
            raise ImproperlyConfigured(
                "An UploadFormField needs the user who posts the form: use UploadFormMixin "
                "(Form(..., user=request.user)) or, in the admin, UploadFieldsAdminMixin."
            )
        if not self.user.is_authenticated:
            raise ValidationError(self.error_messages["signed_out"], code="signed_out")
        try:
            upload_id = read_value(value, label=self.spec.label, user_pk=self.user.pk)
        except ForgedValue as e:
            raise ValidationError(str(e), code="forged") from None
        upload = Upload.objects.filter(pk=upload_id).first()
        if upload is None or upload.status == Upload.Status.DELETING:
            raise ValidationError(self.error_messages["missing"], code="missing")
        self.check_upload(upload)
        return upload

    def check_upload(self, upload: Upload) -> None:
        messages = self.error_messages
        if upload.owner_id != self.user.pk:
            raise ValidationError(messages["not_yours"], code="not_yours")
        if upload.status == Upload.Status.PENDING:
            raise ValidationError(messages["pending"], code="pending")
        if upload.status == Upload.Status.FAILED:
            reason = getattr(upload, "failure_reason", "")
            raise ValidationError(
                messages["failed"].format(reason=f" ({reason.rstrip('.')})" if reason else ""), code="failed"
            )
        if upload.for_field and upload.for_field != self.spec.label:
            raise ValidationError(messages["other_field"], code="other_field")
        size = upload.size or 0
        if size > self.spec.size_limit:
            shown, limit = filesizeformat(size), filesizeformat(self.spec.size_limit)
            if shown == limit:  # "20.0 MB; up to 20.0 MB" would say nothing
                shown, limit = f"{size:,} bytes", f"{self.spec.size_limit:,} bytes"
            raise ValidationError(messages["too_large"].format(size=shown, limit=limit), code="too_large")
        if not self.spec.allows_type(upload.content_type):
            raise ValidationError(
                messages["content_type"].format(content_type=upload.content_type), code="content_type"
            )

    def bound_data(self, data, initial):
        if data is False:
            return Cleared(initial)
        return data or initial

    def has_changed(self, initial, data) -> bool:
        if data is False:
            return _pk_of(initial) is not None
        return bool(data)


class UploadFormMixin:
    """For a form with `UploadFormField`s: `MyForm(request.POST or None, user=request.user)`."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, UploadFormField):
                field.user = user


def _pk_of(value):
    if isinstance(value, Upload):
        return value.pk
    return value or None


def _as_upload(initial) -> Upload | None:
    if isinstance(initial, Upload):
        return initial
    pk = _pk_of(initial)
    return Upload.objects.filter(pk=pk).first() if pk else None
