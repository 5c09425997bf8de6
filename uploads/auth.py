"""How API callers authenticate: the browser's session (with CSRF) or a personal bearer token."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from ninja.utils import check_csrf

from .models import ApiToken

# Writing last_used_at on every call would turn each read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


class CsrfFailed(HttpError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            403, "CSRF check failed: send the csrftoken cookie's value in an X-CSRFToken header."
        )


class SessionAuth(NinjaSessionAuth):
    """The browser's Django session; CSRF is checked only for a signed-in session.

    (Ninja checks CSRF first, which would answer an anonymous call 403 instead of 401.)
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if check_csrf(request):
            raise CsrfFailed()
        return request.COOKIES.get(self.param_name)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str):
        api_token = ApiToken.objects.find(token)
        if api_token is None or not api_token.user.is_active:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_USE_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        return api_token.user
