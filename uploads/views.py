"""The web page: thin views over `uploads.services`, full pages or htmx partials.

Every view needs a signed-in user and reaches only that user's uploads.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget, trigger_client_event

from . import services
from .errors import UploadError, UploadNotFound

PAGE_SIZE = 25
UPLOADS_CHANGED = "uploads-changed"


def _page(request: HttpRequest, page: int) -> dict:
    """One page of the user's uploads with a download link and, for images, a thumbnail."""
    start = (page - 1) * PAGE_SIZE
    # One row more than shown tells whether a next page exists, without a COUNT query.
    rows = list(services.upload_list(owner=request.user)[start : start + PAGE_SIZE + 1])
    uploads = rows[:PAGE_SIZE]
    for upload in uploads:
        # Signing is local computation: no request to S3 per row.
        upload.thumbnail_url = (
            services.upload_download_url(upload=upload, expires_in=settings.UPLOADS_URL_EXPIRATION).url
            if upload.is_image and upload.status == upload.Status.COMPLETE
            else ""
        )
    return {
        "uploads": uploads,
        "page": page,
        "next_page": page + 1 if len(rows) > PAGE_SIZE else None,
        "version": services.upload_list_version(owner=request.user),
    }


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@login_required
@require_GET
@vary_on_headers("HX-Request")  # one URL, two bodies: caches must not hand the partial to a page load
def index(request: HttpRequest) -> HttpResponse:
    """The page; to htmx only the list (a refresh) or, with ?page=N, the next rows to append."""
    # ?page=N is also where "Load more" leads without JavaScript: the full page shows that page.
    page = _page_number(request)
    if request.htmx:
        template = "uploads/partials/upload_rows.html" if page > 1 else "uploads/partials/upload_list.html"
        return render(request, template, _page(request, page))
    form = services.form_upload_start(
        owner=request.user,
        finish_url=lambda token: request.build_absolute_uri(reverse("uploads:finish", args=[token])),
    )
    context = {
        "form": form,
        "max_size": settings.UPLOADS_MAX_FILE_SIZE,
        "accept": ",".join(t for t in settings.UPLOADS_ALLOWED_CONTENT_TYPES if t != "*/*"),
        **_page(request, page),
    }
    return render(request, "uploads/index.html", context)


@login_required
@require_GET
def list_changes(request: HttpRequest) -> HttpResponse:
    """Polled by the page: 204 while the list is unchanged, else ask the page to reload it."""
    if request.GET.get("version") == services.upload_list_version(owner=request.user):
        return HttpResponse(status=204)
    return trigger_client_event(HttpResponse(), UPLOADS_CHANGED)


@login_required
@require_GET
def finish(request: HttpRequest, token: str = "") -> HttpResponse:
    """Where S3 sends the browser after a form upload (no JavaScript): record and complete it.

    The token comes in the path; links signed before it moved there carry it as ?token=.
    """
    try:
        upload = services.form_upload_finish(owner=request.user, token=token or request.GET.get("token", ""))
    except UploadError as e:
        messages.error(request, f"The upload did not complete: {e}")
    else:
        messages.success(request, f"Uploaded {upload.original_filename}.")
    return redirect("uploads:index")


@login_required
@require_GET
def download(request: HttpRequest, upload_id) -> HttpResponse:
    """Send the browser to a fresh presigned GET that saves the file under its original name."""
    try:
        upload = services.upload_get(upload_id=upload_id, owner=request.user)
        link = services.upload_download_url(upload=upload, download=True)
    except UploadNotFound:
        raise Http404("No such upload.") from None
    except UploadError as e:
        messages.error(request, str(e))
        return redirect("uploads:index")
    return redirect(link.url)


@login_required
@require_POST
def delete(request: HttpRequest, upload_id) -> HttpResponse:
    try:
        upload = services.upload_get(upload_id=upload_id, owner=request.user)
    except UploadNotFound:
        raise Http404("No such upload.") from None
    name = upload.original_filename
    try:
        services.upload_delete(upload=upload)
    except UploadError as e:
        if request.htmx:
            # 200, not 503: htmx 2 swaps no 4xx/5xx response, so the message would never show.
            # Retargeted at #messages, the row stays and the page says why.
            response = render(request, "uploads/partials/message.html", {"level": "error", "text": str(e)})
            return reswap(retarget(response, "#messages"), "innerHTML")
        messages.error(request, f"Could not delete {name}: {e}")
        return redirect("uploads:index")
    if request.htmx:
        # The empty answer replaces the row, so it disappears at once; the event makes the list
        # (and its poller's version) reload.
        return trigger_client_event(HttpResponse(), UPLOADS_CHANGED)
    messages.success(request, f"Deleted {name}.")
    return redirect("uploads:index")
