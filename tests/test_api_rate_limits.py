"""The per-user rate limit (uploads/api/auth.py): atomic counts in the shared cache, a sliding window."""

import threading
import uuid
from types import SimpleNamespace

from uploads.api.auth import PerUserRateLimit

WINDOW_START = 6_000_000.0  # a multiple of 60: the start of a one-minute window


def limiter(settings, rate: str, *, at: list[float] | None = None) -> PerUserRateLimit:
    settings.UPLOADS_RATE_URL = rate
    throttle = PerUserRateLimit("UPLOADS_RATE_URL")
    if at is not None:
        throttle.timer = lambda: at[0]
    return throttle


def caller():
    return SimpleNamespace(auth=SimpleNamespace(pk=f"rate-{uuid.uuid4()}"))


def test_requests_arriving_at_once_never_pass_more_than_the_limit(settings, redis_cache):
    throttle, request = limiter(settings, "10/m"), caller()
    barrier = threading.Barrier(40)
    passed = []

    def call():
        barrier.wait()
        passed.append(throttle.allow_request(request))

    threads = [threading.Thread(target=call) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert passed.count(True) == 10


def test_a_refused_request_does_not_use_up_the_limit(settings):
    now = [WINDOW_START + 10]
    throttle, request = limiter(settings, "2/m", at=now), caller()
    assert [throttle.allow_request(request) for _ in range(5)] == [True, True, False, False, False]

    now[0] = WINDOW_START + 60 + 59  # the previous window overlaps the last minute by 1/60

    assert throttle.allow_request(request) is True


def test_the_previous_window_counts_while_it_overlaps_the_last_minute(settings):
    now = [WINDOW_START + 59]
    throttle, request = limiter(settings, "2/m", at=now), caller()
    assert [throttle.allow_request(request) for _ in range(2)] == [True, True]

    now[0] = WINDOW_START + 61  # a new window, but the two requests were two seconds ago

    assert throttle.allow_request(request) is False
    assert 0 < throttle.wait() <= 60
