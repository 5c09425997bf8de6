from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path

from project import csp_report, health
from project.api import api, unknown_endpoint

urlpatterns = [
    # For load balancers: no auth, no CSRF, no session (project/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Browsers ask every page's origin for /favicon.ico (the admin's pages name none): not a 404.
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("uploads/favicon.svg"))),
    # Browsers post what the Content-Security-Policy refused (project/middleware.py names it).
    path("csp-report", csp_report.csp_report, name="csp_report"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/", unknown_endpoint),
    # Sign-in and sign-out only: no password reset or change by mail (undocumented, unthrottled,
    # outside the lockout; staff change passwords in the admin, or `manage.py changepassword`).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("examples/documents/", include("project.examples.urls")),
    path("", include("uploads.urls")),
]

# A database outage raised outside a view is a 503 too (project/outages.py).
handler500 = "project.outages.server_error"
