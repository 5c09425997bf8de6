"""`UploadField`: a model field holding a file the browser sent straight to S3.

Underneath it is a ForeignKey to `Upload`, so migrations, queries, `select_related` and the
upload's lifecycle (complete, delete, cleanup) are the ones every upload has. Its options say what
may be uploaded to it; its form field and widget (`uploads.formfields`, `uploads.widgets`) upload
with progress and hand back a value signed for the user and the field.

    class Document(models.Model):
        file = UploadField(max_size=20 * 1024 * 1024, content_types=["application/pdf"], prefix="documents")
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

from .field_signing import FieldSpec

UPLOAD_MODEL = "uploads.Upload"


class UploadField(models.ForeignKey):
    """A ForeignKey to `Upload` with limits on what may be uploaded to it.

    `max_size` (bytes, at most UPLOADS_MAX_FILE_SIZE; default that), `content_types` (patterns
    such as "image/*", within UPLOADS_ALLOWED_CONTENT_TYPES; default any the site allows) and
    `prefix` (keys go under `<UPLOADS_KEY_PREFIX>/<prefix>/`). `on_delete` defaults to SET_NULL
    (so `null=True`): deleting the upload from the uploads page empties the field.
    """

    description = "A file uploaded directly to S3"

    def __init__(
        self,
        to=UPLOAD_MODEL,
        on_delete=None,
        *,
        max_size: int | None = None,
        content_types=None,
        prefix: str = "",
        **kwargs,
    ):
        if on_delete is None:
            on_delete = models.SET_NULL
            kwargs.setdefault("null", True)
            kwargs.setdefault("blank", True)
        kwargs.setdefault("related_name", "+")  # Upload gets no reverse accessor per model
        self.max_size = max_size
        self.content_types = tuple(content_types or ())
        self.prefix = prefix.strip("/")
        super().__init__(to, on_delete, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("to", None)
        if self.max_size is not None:
            kwargs["max_size"] = self.max_size
        if self.content_types:
            kwargs["content_types"] = list(self.content_types)
        if self.prefix:
            kwargs["prefix"] = self.prefix
        return name, "uploads.fields.UploadField", args, kwargs

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.name}"

    def spec(self) -> FieldSpec:
        return FieldSpec(
            label=self.label, max_size=self.max_size, content_types=self.content_types, prefix=self.prefix
        )

    def formfield(self, **kwargs):
        from .formfields import UploadFormField

        # ForeignKey's choice-field arguments (the admin passes a queryset) don't apply here.
        for name in ("queryset", "to_field_name", "limit_choices_to", "empty_label", "blank", "form_class"):
            kwargs.pop(name, None)
        defaults = {
            "required": not self.blank,
            "label": self.verbose_name[:1].upper() + self.verbose_name[1:],
            "help_text": self.help_text,
            "spec": self.spec(),
        }
        return UploadFormField(**{**defaults, **kwargs})

    def contribute_to_class(self, cls, name, private_only=False, **kwargs):
        super().contribute_to_class(cls, name, private_only=private_only, **kwargs)
        # Real models only: the historical models of migrations have their own registry.
        if cls._meta.abstract or cls._meta.apps is not global_apps:
            return
        from . import field_refs

        uid = f"uploads.fields:{cls._meta.label}"
        pre_save.connect(field_refs.remember_replaced, sender=cls, dispatch_uid=uid, weak=False)
        post_save.connect(field_refs.release_replaced, sender=cls, dispatch_uid=uid, weak=False)
        post_delete.connect(field_refs.release_deleted, sender=cls, dispatch_uid=uid, weak=False)


def upload_fields():
    """Every `UploadField` of the project's models (not abstract, not proxies)."""
    for model in global_apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.local_fields:
            if isinstance(field, UploadField):
                yield field
