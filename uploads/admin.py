from django.contrib import admin

from .models import ApiToken, Upload


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["original_filename", "owner", "status", "size", "content_type", "created_at"]
    list_filter = ["status", "public"]
    search_fields = ["original_filename", "file", "owner__username"]
    readonly_fields = ["id", "file", "size", "etag", "created_at", "completed_at", "expires_at"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "hint"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token.revoke()
