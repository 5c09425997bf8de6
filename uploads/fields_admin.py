"""The admin for models with an `UploadField`: the widget, and the user its values are signed for.

    @admin.register(Document)
    class DocumentAdmin(UploadFieldsAdminMixin, admin.ModelAdmin):
        ...

Works for `ModelAdmin` and inlines alike. Without the mixin Django's admin would wrap the field in
its "add another Upload" links and could not tell the form who posts it; the system check
`uploads.W030` names any registered admin that lacks it.
"""

from __future__ import annotations

from .fields import UploadField


class UploadFieldsAdminMixin:
    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, UploadField):
            return db_field.formfield(user=request.user, **kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)
