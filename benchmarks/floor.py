"""The floor: a trivial authenticated django-ninja endpoint that writes one row.

Every operation's cost is reported as a ratio to it, measured in the same run.
"""

import uuid
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone
from ninja import NinjaAPI

from uploads.api.auth import SessionAuth, TokenAuth

api = NinjaAPI(urls_namespace="bench", auth=[TokenAuth(), SessionAuth()], docs_url=None)


@api.post("/floor")
def floor(request):
    row = Session.objects.create(
        session_key=uuid.uuid4().hex, session_data="", expire_date=timezone.now() + timedelta(minutes=1)
    )
    return {"id": row.session_key}


# --- Bytes received by Django -----------------------------------------------------------------

_received = {"requests": 0, "body_bytes": 0}


class CountRequestBytes:
    """Counts the request bodies this process receives (Content-Length), for the data-path bench."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _received["requests"] += 1
        _received["body_bytes"] += int(request.META.get("CONTENT_LENGTH") or 0)
        return self.get_response(request)


@api.get("/received", auth=None)
def received(request):
    return dict(_received)
