"""System checks for `UploadField`s: an admin without the widget's mixin, limits the site overrides."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from .fields import UploadField, upload_fields


@checks.register(checks.Tags.admin)
def check_upload_field_admins(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from django.contrib import admin

    from .fields_admin import UploadFieldsAdminMixin

    problems = []
    for model, model_admin in admin.site._registry.items():
        for admin_ in [model_admin, *(inline(model, admin.site) for inline in model_admin.inlines)]:
            if isinstance(admin_, UploadFieldsAdminMixin):
                continue
            if any(isinstance(field, UploadField) for field in admin_.model._meta.fields):
                problems.append(
                    checks.Warning(
                        f"{type(admin_).__qualname__} edits {admin_.model._meta.label}, which has an "
                        "UploadField, without UploadFieldsAdminMixin: its forms can't take new files.",
                        hint="Add uploads.fields_admin.UploadFieldsAdminMixin to its bases.",
                        obj=type(admin_),
                        id="uploads.W030",
                    )
                )
    return problems


@checks.register()
def check_upload_field_limits(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Warning(
            f"{field.label} allows {field.max_size} bytes, more than UPLOADS_MAX_FILE_SIZE "
            f"({settings.UPLOADS_MAX_FILE_SIZE}); the site's limit applies.",
            obj=field,
            id="uploads.W031",
        )
        for field in upload_fields()
        if field.max_size and field.max_size > settings.UPLOADS_MAX_FILE_SIZE
    ]
