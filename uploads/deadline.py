"""One deadline per request for everything it asks of the store (UPLOADS_REQUEST_DEADLINE).

A request starts its clock in `RequestDeadlineMiddleware`; every store call made while it runs
(`s3/connection.py` routes each one through `call_within_deadline`) gets only the time that is left, and
raises `StorageUnavailable` when there is none. So however many calls a request makes, and
whatever the store does (hangs, answers slowly, drops an answer), the request answers within
the deadline; what it could not finish stays as it was (pending, deleting) for the next request
or `cleanup_uploads`. Commands run with no deadline: their own, longer, per-call budgets apply.

Why a worker thread per call: a boto3 call can't be given a total time, only per-attempt socket
timeouts (a hung store costs attempts x (connect + read)), and a slow store that trickles bytes
resets the read timeout forever. Waiting on a future with the time left bounds the request
itself; the abandoned call ends on its own budget in the background, and every write it might
still make is conditional or idempotent (a join, a delete, an abort).
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings

from .errors import StorageUnavailable

logger = logging.getLogger("uploads.s3")

T = TypeVar("T")
R = TypeVar("R")

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("uploads_deadline", default=None)

# Store calls waiting for the store, across the process's request threads; a hung store holds a
# thread until the call's own budget ends (UPLOADS_S3_MAX_ATTEMPTS x (connect + read)).
_calls = ThreadPoolExecutor(max_workers=64, thread_name_prefix="store-call")
# What a 503 for the store tells a client to wait (Retry-After): about one deadline.
STORAGE_RETRY_AFTER = 10
# Parallel per-row work of one request (bulk delete, "Check with S3 again"), at most this many at once.
PARALLEL_ROWS = 8


class DeadlineExceeded(StorageUnavailable):
    default_message = "Storage did not answer in time; nothing more was changed. Try again in a moment."


@contextmanager
def deadline(seconds: float | None = None) -> Iterator[float]:
    """Give the store calls made inside the block `seconds` in total (the setting by default)."""
    seconds = settings.UPLOADS_REQUEST_DEADLINE if seconds is None else seconds
    ends = time.monotonic() + seconds
    token = _deadline.set(ends)
    try:
        yield ends
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline, or None outside one."""
    ends = _deadline.get()
    return None if ends is None else ends - time.monotonic()


def call_within_deadline(call: Callable[[], R], what: str) -> R:
    """Run one store call; past the deadline, raise `DeadlineExceeded` instead of waiting on."""
    left = remaining()
    if left is None:
        return call()
    if left <= 0:
        raise DeadlineExceeded()
    future = _calls.submit(call)
    try:
        return future.result(timeout=left)
    except TimeoutError:
        future.cancel()
        logger.warning("The store did not answer within the request's deadline: %s", what)
        raise DeadlineExceeded(f"Storage did not answer in time to {what}; try again in a moment.") from None


def map_within_deadline(work: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R | Exception]]:
    """Do `work` for each item, `PARALLEL_ROWS` at a time, until the deadline; yield (item, result
    or the exception it raised) as each ends. Items not finished by then are not yielded: their
    store calls end at the deadline too (each thread runs in this request's context).

    `work` must not touch the database: a thread's connection can't see this request's transaction.
    """
    pending: dict[Future, T] = {}
    # Not a `with` block: leaving one waits for every thread, and the deadline is not to wait.
    pool = ThreadPoolExecutor(max_workers=PARALLEL_ROWS, thread_name_prefix="row")
    try:
        for item in items:
            context = contextvars.copy_context()
            pending[pool.submit(context.run, work, item)] = item
        while pending:
            left = remaining()
            timeout = None if left is None else max(left, 0)
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if not done:
                break  # the deadline: what is left stays for cleanup
            for future in done:
                item = pending.pop(future)
                error = future.exception()
                yield item, (error if error is not None else future.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class RequestDeadlineMiddleware:
    """Start each request's store deadline (UPLOADS_REQUEST_DEADLINE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with deadline():
            return self.get_response(request)
