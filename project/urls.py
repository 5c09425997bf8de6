from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path

from project import health
from project.api import api, unknown_endpoint

urlpatterns = [
    # For load balancers: no auth, no CSRF, no session (project/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Browsers ask every page's origin for /favicon.ico (the admin's pages name none): not a 404.
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("uploads/favicon.svg"))),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/", unknown_endpoint),
    path("accounts/", include("django.contrib.auth.urls")),
    path("examples/documents/", include("project.examples.urls")),
    path("", include("uploads.urls")),
]
