from django.contrib import admin, messages

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
    readonly_fields = ["hint", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        # A new token needs only its owner and a label; the secret is generated on save.
        return ["user", "name"] if obj is None else ["user", "name", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        secret = None if change else obj.set_new_secret()
        super().save_model(request, obj, form, change)
        if secret:
            messages.warning(request, f"The new token is {secret} — copy it now; it is not shown again.")

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token.revoke()
