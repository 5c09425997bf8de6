from django.contrib import admin

from uploads.fields_admin import UploadFieldsAdminMixin

from .models import Document


@admin.register(Document)
class DocumentAdmin(UploadFieldsAdminMixin, admin.ModelAdmin):
    list_display = ["title", "owner", "file"]
    list_select_related = ["owner", "file"]
