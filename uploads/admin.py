from django.contrib import admin, messages
from django.utils.html import format_html

from . import deletion, recheck
from .admin_changelist import EstimatedCountPaginator, OwnerFilter, TypeFamilyFilter, search_q
from .errors import UploadError
from .models import ApiToken, Upload
from .processing.results import thumbnail_out
from .processing.state import requeue
from .webhooks import admin as webhooks_admin  # noqa: F401  (registers the webhook admin)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = [
        "preview",
        "original_filename",
        "owner",
        "status",
        "failure_code",
        "processing",
        "scan",
        "size",
        "content_type",
        "created_at",
    ]
    list_display_links = ["original_filename"]
    list_filter = [
        "status",
        "processing",
        "scan",
        TypeFamilyFilter,
        OwnerFilter,
        "created_at",
        "public",
    ]
    # Searched through indexes only (admin_changelist.search_q): name, key, id, username.
    search_fields = ["original_filename"]
    search_help_text = "Part of a name, or exactly a key, an upload's id or a username."
    # Ten million rows: no COUNT of the whole table, no DISTINCT over it for dates or owners.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    autocomplete_fields = ["owner"]
    exclude = ["file"]  # the key is the server's: shown read-only, as `stored_file`
    # The status changes only through uploads.lifecycle (the actions below), never by hand.
    readonly_fields = [
        "id",
        "stored_file",
        "status",
        "failure_code",
        "failure_reason",
        "size",
        "etag",
        "created_at",
        "completed_at",
        "expires_at",
        "processing",
        "processing_error",
        "metadata",
        "thumbnail",
        "declared_sha256",
        "checksum_sha256",
        "scan",
    ]
    list_select_related = ["owner"]
    actions = ["check_with_storage", "process_again", "scan_again"]

    def get_search_results(self, request, queryset, search_term):
        terms = search_term.split()
        for term in terms:
            queryset = queryset.filter(search_q(term))
        return queryset, False

    @admin.display(description="Preview")
    def preview(self, upload: Upload) -> str:
        # Raster images only (is_image): an SVG could carry script. Signing is local: no S3 request.
        # The worker's thumbnail (uploads/processing), never the original.
        thumbnail = thumbnail_out(upload)
        if thumbnail is None:
            return ""
        return format_html('<img src="{}" alt="" width="48" height="48" loading="lazy">', thumbnail["url"])

    @admin.display(description="File")
    def stored_file(self, upload: Upload) -> str:
        # A link only to bytes that may be served (`file.url` refuses the rest, scan pending included).
        try:
            return format_html('<a href="{}">{}</a>', upload.file.url, upload.key)
        except UploadError:
            return upload.key

    # Django's delete (one, or "Delete selected" after its confirmation page) goes through the
    # services, so the object goes with its record; if S3 fails, the records stay marked deleting.
    def delete_model(self, request, obj):
        try:
            deletion.upload_delete(upload=obj)
        except UploadError as e:
            messages.error(request, f"Could not delete {obj.original_filename}: {e}")

    def delete_queryset(self, request, queryset):
        try:
            deletion.upload_delete_many(upload_ids=list(queryset.values_list("pk", flat=True)))
        except UploadError as e:
            messages.error(request, f"Some files could not be deleted: {e}")

    @admin.action(description="Check with S3 again (pending: complete or fail; complete: still there?)")
    def check_with_storage(self, request, queryset):
        # Within the request's deadline however many rows are selected (uploads/recheck.py).
        checked = queryset.filter(status__in=[Upload.Status.PENDING, Upload.Status.COMPLETE])
        outcomes = recheck.uploads_recheck(checked)
        summary = (
            ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
            or "nothing to check"
        )
        messages.info(request, f"Checked with S3: {summary}.")

    @admin.action(description="Process again (metadata and thumbnail)")
    def process_again(self, request, queryset):
        queued = sum(requeue(upload) for upload in queryset.filter(status=Upload.Status.COMPLETE))
        messages.info(request, f"{queued} uploads queued for processing.")

    @admin.action(description="Scan again (after a scanner error)")
    def scan_again(self, request, queryset):
        waiting = queryset.filter(
            status=Upload.Status.COMPLETE, scan__in=[Upload.Scan.ERROR, Upload.Scan.PENDING]
        )
        queued = sum(requeue(upload) for upload in waiting)
        messages.info(request, f"{queued} uploads queued for scanning.")


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
