"""The address a request came from, for the sign-in lockout (django-axes' AXES_CLIENT_IP_CALLABLE).

Behind reverse proxies every request arrives from the nearest proxy, so REMOTE_ADDR would lock
everyone out together (and let anyone lock any named account). With TRUSTED_PROXY_COUNT = n,
the address is the n-th entry from the right of CLIENT_IP_HEADER (X-Forwarded-For by default):
each trusted proxy appends the address it saw, so entries further left are whatever the client
sent and are never trusted. With 0 (the default, no proxy) the header is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    header = "HTTP_" + settings.CLIENT_IP_HEADER.upper().replace("-", "_")
    entries = [entry.strip() for entry in request.META.get(header, "").split(",") if entry.strip()]
    if len(entries) < count:
        return remote  # not through every trusted proxy: the header may be the client's own
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
