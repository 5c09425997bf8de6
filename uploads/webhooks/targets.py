"""Which webhook URLs the worker may call: never a private, loopback or link-local address.

A webhook URL is typed by a staff member but fetched by our worker from inside our network, so
a URL naming the metadata service or a database port would turn the worker into a proxy
(SSRF). Every address the host resolves to is checked at each attempt; a development receiver on
127.0.0.1 needs `UPLOADS_WEBHOOKS_ALLOW_PRIVATE`.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(Exception):
    """The URL may not be called; the message says why, for the delivery log."""


def check_target(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise TargetRefused(f"Not an http(s) URL: {url[:100]}")
    if settings.UPLOADS_WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as e:
        raise TargetRefused(f"{parts.hostname} does not resolve ({e.strerror or e}).") from e
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise TargetRefused(
                f"{parts.hostname} resolves to {address}, a private or loopback address "
                "(UPLOADS_WEBHOOKS_ALLOW_PRIVATE allows it)."
            )
