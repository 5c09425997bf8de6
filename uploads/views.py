"""The web page: thin views over `uploads.services`, full pages or htmx partials.

Every view needs a signed-in user and reaches only that user's uploads.
"""

from __future__ import annotations

import fnmatch
from functools import wraps
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget, trigger_client_event

from . import cursors, deletion, form_uploads, listing, quotas, services, sharing
from .api.auth import PerUserRateLimit
from .deadline import STORAGE_RETRY_AFTER
from .errors import InvalidCursor, ScanPending, StorageUnavailable, UploadError, UploadNotFound
from .forms import BulkDeleteForm, ListQueryForm, ShareForm
from .processing.results import metadata_summary, thumbnail_out
from .processing.trust import is_servable, scan_shown
from .s3 import S3Client
from .serving import RASTER_IMAGE_TYPES, serves_inline
from .widgets import hashing_script

PAGE_SIZE = 25
UPLOADS_CHANGED = "uploads-changed"


def page_errors(view):
    """The page's typed errors mapped to HTTP once: an upload not found (or another user's) is a 404."""

    @wraps(view)
    def mapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except UploadNotFound as e:
            raise Http404(str(e)) from None

    return mapped


def _list_query(request: HttpRequest) -> ListQueryForm:
    return ListQueryForm(request.GET)


def _index_url(query_string: str) -> str:
    return reverse("uploads:index") + (f"?{query_string}" if query_string else "")


def _preview_kind(upload) -> str:
    """How the preview dialog shows a complete file, or "" when it may not be shown inline."""
    if not is_servable(upload) or not serves_inline(upload.content_type):
        return ""
    family = upload.content_type.split("/")[0]
    return family if family in {"image", "video", "audio"} else "document"


def _page(request: HttpRequest, filters: ListQueryForm) -> dict:
    """One page of the user's uploads with a download link and, for images, a thumbnail."""
    query = filters.query()
    page, cursor = query.pop("page"), query.pop("cursor")
    rows = listing.upload_list(owner=request.user, **query)
    if page > 1 and not cursor:  # an older ?page=N link
        start = (page - 1) * PAGE_SIZE
        chunk = cursors.offset_page(rows, sort=query["sort"], start=start, size=PAGE_SIZE)
    else:
        try:
            chunk = cursors.keyset_page(rows, sort=query["sort"], cursor=cursor, size=PAGE_SIZE)
        except InvalidCursor:  # a hand-edited link still shows a list: the first page
            cursor, chunk = "", cursors.keyset_page(rows, sort=query["sort"], cursor=None, size=PAGE_SIZE)
    uploads = chunk.items
    now = timezone.now()
    client = S3Client()
    for upload in uploads:
        # Signing is local computation: no request to S3 per row.
        # The worker's WebP thumbnail, never the original: a 36 px square costs a few KB.
        thumbnail = thumbnail_out(upload, client=client)
        upload.thumbnail_url = thumbnail["url"] if thumbnail else ""
        upload.metadata_text = metadata_summary(upload.metadata or {})
        upload.preview_kind = _preview_kind(upload)
        upload.servable = is_servable(upload)
        upload.scan_shown = scan_shown(upload)
        upload.family = listing.type_family(upload.content_type)
        upload.extension = PurePosixPath(upload.original_filename).suffix[1:5].upper()
        upload.waiting = upload.status == upload.Status.PENDING and upload.expires_at > now
    filtered = any(query[name] for name in ("search", "family", "status"))
    usage = quotas.upload_usage(owner=request.user)  # one row: the usage line and the list's version
    return {
        "uploads": uploads,
        "appending": bool(cursor) or page > 1,
        "next_url": _index_url(filters.query_string(cursor=chunk.next)) if chunk.next else "",
        "list_url": _index_url(filters.query_string()),
        "filtered": filtered,
        "version": listing.list_version_of(usage),
        "usage": usage,
    }


def _cors_origin_missing(request: HttpRequest) -> str:
    """The site's own origin if the bucket's CORS settings leave it out (browsers then can't upload)."""
    origin = request.build_absolute_uri("/").rstrip("/")
    allowed = settings.UPLOADS_CORS_ORIGINS
    return "" if any(fnmatch.fnmatchcase(origin, pattern) for pattern in allowed) else origin


@login_required
@require_GET
@vary_on_headers("HX-Request")  # one URL, two bodies: caches must not hand the partial to a page load
def index(request: HttpRequest) -> HttpResponse:
    """The page; to htmx only the list (a refresh) or, with ?cursor=, the next rows to append."""
    # ?cursor= is also where "Load more" leads without JavaScript: the full page shows that page.
    filters = _list_query(request)
    context = _page(request, filters)
    if request.htmx:
        if context["appending"]:
            return render(request, "uploads/partials/upload_rows.html", context)
        # The usage line comes along (swapped out of band): an upload or a delete changes it.
        context["refreshed_usage"] = context["usage"]
        return render(request, "uploads/partials/upload_list.html", context)
    context |= {
        "filters": filters,
        "max_size": settings.UPLOADS_MAX_FILE_SIZE,
        "multipart_threshold": settings.UPLOADS_MULTIPART_THRESHOLD,
        "raster_types": ",".join(sorted(RASTER_IMAGE_TYPES)),  # the uploader previews these locally
        "accept": ",".join(t for t in settings.UPLOADS_ALLOWED_CONTENT_TYPES if t != "*/*"),
        "cors_origin_missing": _cors_origin_missing(request) if request.user.is_staff else "",
        # What a pending row waits for, and when cleanup may settle it (cleanup.minimum_age()).
        "presign_minutes": max(1, settings.UPLOADS_PRESIGN_EXPIRATION // 60),
        "hashing_script": hashing_script(defer=True),
    }
    return render(request, "uploads/index.html", context)


# Signing a no-JavaScript form counts against the same per-user budget as a presign.
_PRESIGN_RATE = PerUserRateLimit("UPLOADS_RATE_PRESIGN")


@login_required
@require_GET
def form_upload(request: HttpRequest) -> HttpResponse:
    """Without JavaScript: sign a form for one file, a pending upload like a presign (quota, rate).

    A step of its own, so the page every visitor loads (most with JavaScript, which never uses
    this form) reserves nothing.
    """
    request.auth = request.user  # the throttle keys on the caller as the API's auth sets it
    if not _PRESIGN_RATE.allow_request(request):
        wait = max(1, int(_PRESIGN_RATE.wait() or 1))
        messages.error(request, f"Too many uploads started; try again in {wait} seconds.")
        return redirect("uploads:index")
    try:
        form = form_uploads.form_upload_start(
            owner=request.user,
            finish_url=lambda token: request.build_absolute_uri(reverse("uploads:finish", args=[token])),
        )
    except UploadError as e:  # TooManyPending, QuotaExceeded, or the store's configuration
        messages.error(request, str(e))
        return redirect("uploads:index")
    context = {
        "form": form,
        "accept": ",".join(t for t in settings.UPLOADS_ALLOWED_CONTENT_TYPES if t != "*/*"),
        "presign_minutes": max(1, settings.UPLOADS_PRESIGN_EXPIRATION // 60),
    }
    return render(request, "uploads/form_upload.html", context)


@login_required
@require_GET
def list_changes(request: HttpRequest) -> HttpResponse:
    """Polled by the page: 204 while the list is unchanged, else ask the page to reload it."""
    if request.GET.get("version") == listing.upload_list_version(owner=request.user):
        return HttpResponse(status=204)
    return trigger_client_event(HttpResponse(), UPLOADS_CHANGED)


@login_required
@require_GET
@page_errors
def finish(request: HttpRequest, token: str) -> HttpResponse:
    """Where S3 sends the browser after a form upload (no JavaScript): record and complete it."""
    try:
        upload = form_uploads.form_upload_finish(owner=request.user, token=token)
    except UploadNotFound:
        raise  # forged, malformed, expired, used, or someone else's: a 404 (page_errors)
    except StorageUnavailable as e:
        # The file may well be stored: keep the user on this link, which stays valid, to retry.
        context = {"message": str(e), "retry_url": request.get_full_path()}
        return _retry_later(render(request, "uploads/finish_retry.html", context, status=503))
    except UploadError as e:
        messages.error(request, f"The upload did not complete: {e}")
    else:
        messages.success(request, f"Uploaded {upload.original_filename}.")
    return redirect("uploads:index")


@login_required
@require_GET
@page_errors
def download(request: HttpRequest, upload_id) -> HttpResponse:
    """Send the browser to a fresh presigned GET that saves the file under its original name."""
    upload = services.upload_get(upload_id=upload_id, owner=request.user)
    try:
        link = services.upload_download_url(upload=upload, download=True)
    except UploadError as e:
        messages.error(request, str(e))
        return redirect("uploads:index")
    return redirect(link.url)


@login_required
@require_POST
@page_errors
def delete(request: HttpRequest, upload_id) -> HttpResponse:
    upload = services.upload_get(upload_id=upload_id, owner=request.user)
    name = upload.original_filename
    try:
        deletion.upload_delete(upload=upload)
    except UploadError as e:
        # For htmx the message goes to #messages and the row stays.
        return _message(request, "error", f"Could not delete {name}: {e}", error=e)
    if request.htmx:
        # The empty answer replaces the row, so it disappears at once; the event makes the list
        # (and its poller's version) reload.
        return trigger_client_event(HttpResponse(), UPLOADS_CHANGED)
    messages.success(request, f"Deleted {name}.")
    return redirect("uploads:index")


def _dialog(request: HttpRequest, partial: str, context: dict, *, title: str) -> HttpResponse:
    """The partial alone for htmx (it fills the page's dialog), else a page of its own."""
    if request.htmx:
        return render(request, f"uploads/partials/{partial}", context)
    return render(request, "uploads/dialog_page.html", {**context, "partial": partial, "title": title})


@login_required
@require_POST
def delete_many(request: HttpRequest) -> HttpResponse:
    """Delete the selected uploads at once; without JavaScript, a page asks to confirm first."""
    form = BulkDeleteForm(request.POST)
    ids = form.upload_ids()
    if not ids:
        return _message(request, "info", "Select the files to delete first.")
    if not form.cleaned_data["confirmed"]:
        uploads = listing.upload_list(owner=request.user).filter(pk__in=ids)
        return render(request, "uploads/confirm_delete.html", {"uploads": uploads})
    try:
        count = deletion.upload_delete_many(owner=request.user, upload_ids=ids)
    except UploadError as e:
        response = _message(request, "error", f"Could not delete every file: {e}", error=e)
    else:
        response = _message(request, "success", f"Deleted {count} file{'s' if count != 1 else ''}.")
    return trigger_client_event(response, UPLOADS_CHANGED) if request.htmx else response


def _message(
    request: HttpRequest, level: str, text: str, *, error: UploadError | None = None
) -> HttpResponse:
    """A message: swapped into #messages for htmx; for a plain form, shown after a redirect.

    A store outage answers htmx 503 with Retry-After: base.html's htmx `responseHandling` swaps a
    503 (into #messages, where this retargets it anyway) and no other error status.
    """
    if request.htmx:
        status = 503 if isinstance(error, StorageUnavailable) else 200
        response = render(
            request, "uploads/partials/message.html", {"level": level, "text": text}, status=status
        )
        response = reswap(retarget(response, "#messages"), "innerHTML")
        return _retry_later(response) if status == 503 else response
    getattr(messages, level)(request, text)
    return redirect("uploads:index")


def _retry_later(response: HttpResponse) -> HttpResponse:
    """A 503 for the store: when to try again."""
    response["Retry-After"] = str(STORAGE_RETRY_AFTER)
    return response


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def share(request: HttpRequest, upload_id) -> HttpResponse:
    """Ask how long a share link should last (GET), then make one (POST)."""
    upload = services.upload_get(upload_id=upload_id, owner=request.user)
    form = ShareForm(request.POST or None)
    context = {
        "upload": upload,
        "form": form,
        "inline": serves_inline(upload.content_type),
        "max_label": sharing.share_lifetimes()[-1][1],
    }
    if form.is_valid():
        try:
            context["link"] = sharing.upload_share_url(
                upload=upload, expires_in=form.cleaned_data["expires_in"]
            )
        except UploadError as e:
            context["error"] = str(e)
    return _dialog(request, "share_link.html", context, title=f"Share {upload.original_filename}")


@login_required
@require_GET
@page_errors
def preview(request: HttpRequest, upload_id) -> HttpResponse:
    """Show a file whose type is safe inline (images, PDF, audio, video, plain text)."""
    upload = services.upload_get(upload_id=upload_id, owner=request.user)
    if upload.status == upload.Status.COMPLETE and not is_servable(upload):
        # Scanning: no link to the bytes until they are clean (the sentence of ScanPending).
        return _message(request, "info", str(ScanPending()))
    kind = _preview_kind(upload)
    if not kind:
        raise Http404("This file can't be shown in the browser; download it instead.")
    link = services.upload_download_url(upload=upload)
    context = {
        "upload": upload,
        "kind": kind,
        "url": link.url,
        "metadata_text": metadata_summary(upload.metadata),
    }
    return _dialog(request, "file_preview.html", context, title=upload.original_filename)
