from django.contrib import admin
from django.urls import include, path, re_path

from project import health
from project.api import api, unknown_endpoint

urlpatterns = [
    # For load balancers: no auth, no CSRF, no session (project/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/", unknown_endpoint),
    path("accounts/", include("django.contrib.auth.urls")),
    path("examples/documents/", include("project.examples.urls")),
    path("", include("uploads.urls")),
]
