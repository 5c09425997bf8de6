"""The malware scanner: ClamAV's daemon, over its socket, with the object streamed to it (INSTREAM).

What it reads is bounded by clamd's StreamMaxLength (25 MiB by default); the worker never sends
more than UPLOADS_SCAN_MAX_SIZE, which must not exceed it (trust.py).

clamdpy (a small, typed, maintained client of clamd's protocol) speaks to the daemon; this module
only picks the socket from the settings and turns its answers into a `Verdict` or a
`ScannerUnavailable` (which the task retries).
"""

from __future__ import annotations

from dataclasses import dataclass

import clamdpy
from clamdpy.exceptions import BufferTooLongError, ClamdException
from django.conf import settings

# clamd's default StreamMaxLength is 25 MiB; chunks of 1 MiB keep the round trips few.
CHUNK_SIZE = 1024 * 1024


class ScannerUnavailable(Exception):
    """The scanner could not give a verdict (down, timed out, refused the stream): try again later."""


class TooLargeToScan(Exception):
    """clamd refused the stream as longer than its StreamMaxLength: no retry changes that."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str = ""  # the name of what was found, when not clean


def enabled() -> bool:
    return settings.UPLOADS_SCANNER != "none"


def daemon():
    """The configured clamd socket: UPLOADS_CLAMD_SOCKET (unix) or UPLOADS_CLAMD_ADDRESS (host:port)."""
    timeout = settings.UPLOADS_SCAN_TIMEOUT
    if settings.UPLOADS_CLAMD_SOCKET:
        return clamdpy.ClamdUnixSocket(
            path=settings.UPLOADS_CLAMD_SOCKET, timeout=timeout, max_chunk_size=CHUNK_SIZE
        )
    host, _, port = (settings.UPLOADS_CLAMD_ADDRESS or "127.0.0.1:3310").rpartition(":")
    return clamdpy.ClamdNetworkSocket(
        host=host or "127.0.0.1", port=int(port), timeout=timeout, max_chunk_size=CHUNK_SIZE
    )


def scan_stream(stream) -> Verdict:
    """Stream what `stream.read()` gives, up to its end, to clamd and return its verdict."""
    try:
        result = daemon().instream(stream)
    except BufferTooLongError as e:
        raise TooLargeToScan(f"ClamAV refused the file as too long: {_describe(e)}") from e
    except (ClamdException, OSError) as e:
        raise ScannerUnavailable(f"ClamAV could not scan the file: {_describe(e)}") from e
    if result.status == "FOUND":
        return Verdict(clean=False, signature=result.reason or "unknown")
    if result.status == "ERROR":
        raise ScannerUnavailable(f"ClamAV could not scan the file: {result.reason}")
    return Verdict(clean=True)


def _describe(error: Exception) -> str:
    return getattr(error, "msg", "") or getattr(error, "error", "") or str(error) or type(error).__name__
