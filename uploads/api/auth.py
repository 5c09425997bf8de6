"""Who calls the API and how often: the browser's session (with CSRF) or a personal bearer token,
and the per-user rate limits on the operations that cost the most."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from ninja.throttling import SimpleRateThrottle
from ninja.utils import check_csrf

from ..models import ApiToken
from .answers import CSRF_FAILED

# Writing last_used_at on every call would turn each read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


class CsrfFailed(HttpError):
    code = CSRF_FAILED.code

    def __init__(self) -> None:
        super().__init__(CSRF_FAILED.status, CSRF_FAILED.detail)


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

    def __call__(self, request: HttpRequest):
        # ninja's HttpBearer logs the whole header of any other scheme (Basic credentials too)
        # when DEBUG is on; an Authorization value is never logged here.
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str):
        api_token = ApiToken.objects.find(token)
        if api_token is None or not api_token.user.is_active:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_USE_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        return api_token.user


def parse_rate(rate: str) -> tuple[int, int] | None:
    """Return (requests, seconds) for a rate such as "60/m"; (0, 0), no limit, for 0; None if malformed."""
    if rate.strip() == "0":
        return 0, 0
    try:
        count, seconds = _RATE_FORMAT.parse_rate(rate)
    except ValueError:
        return None
    if count == 0:
        return 0, 0
    return (count, seconds) if count is not None and count > 0 and seconds else None


class PerUserRateLimit(SimpleRateThrottle):
    """django-ninja's cache-backed throttle, per user (session or token alike) and per operation.

    The rate is read from a setting on each request (0 = no limit); counts live in Django's
    cache (REDIS_URL in production), shared by every process and server. Each window of the
    rate's length has one counter, raised by the cache's atomic `incr`: requests that arrive at
    the same moment on different servers each get their own count, so no more than the limit
    pass (a read-then-write history let every one of them see the same count). The window
    slides by weighing the previous window's count by how much of it still overlaps, as
    Cloudflare's and nginx's limiters do. ninja keeps one throttle object per operation and
    stores each request's state on it; here that state stays with the thread.
    """

    def __init__(self, setting: str):
        self.setting = setting
        self.scope = setting.lower()
        self._local = threading.local()

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request: HttpRequest) -> bool:
        count, seconds = parse_rate(getattr(settings, self.setting)) or (0, 0)
        if not count:
            return True
        key, now = self.get_cache_key(request), self.timer()
        window, elapsed = divmod(now, seconds)
        current = f"{key}:{int(window)}"
        mine = self._increment(current, seconds)
        overlap = 1 - elapsed / seconds  # how much of the previous window is still in the last `seconds`
        earlier = (self.cache.get(f"{key}:{int(window) - 1}") or 0) * overlap
        if earlier + mine <= count:
            return True
        self.cache.decr(current)  # a refused request does not count
        self._local.wait = self._wait(count, seconds, elapsed, mine - 1, earlier / overlap if overlap else 0)
        return False

    def _increment(self, key: str, seconds: int) -> int:
        """Add one to the window's counter, atomically; it lives until the next window has ended."""
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request (or two at once: `add` lets one create it)
            self.cache.add(key, 0, timeout=2 * seconds + 1)
            return self.cache.incr(key)

    @staticmethod
    def _wait(count: int, seconds: int, elapsed: float, current: int, previous: float) -> float:
        """Seconds until one more request would pass: the previous window must fade enough, or end."""
        if current >= count or not previous:
            return max(seconds - elapsed, 1)
        fade_until = (1 - (count - current) / previous) * seconds  # when previous × overlap + current < count
        return max(fade_until - elapsed, 1)

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


_RATE_FORMAT = SimpleRateThrottle(rate="1/s")
