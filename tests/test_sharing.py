"""Share links (uploads/sharing.py): the lifetimes on offer, capped at the longest link allowed."""

from urllib.parse import parse_qs, urlparse

import pytest

from uploads import sharing
from uploads.models import Upload

pytestmark = pytest.mark.django_db


def test_share_lifetimes_stop_at_the_longest_link_allowed(settings):
    settings.UPLOADS_URL_MAX_EXPIRATION = 2 * 86400

    assert sharing.share_lifetimes() == [(3600, "1 hour"), (86400, "1 day"), (172800, "2 days")]


def test_a_share_link_is_capped_at_the_longest_link_allowed(s3, upload_factory, settings):
    settings.UPLOADS_URL_MAX_EXPIRATION = 3600
    upload = upload_factory(status=Upload.Status.COMPLETE)

    link = sharing.upload_share_url(upload=upload, expires_in=7 * 86400)

    assert parse_qs(urlparse(link.url).query)["X-Amz-Expires"] == ["3600"]


def test_a_share_link_downloads_a_type_not_safe_inline(s3, upload_factory):
    upload = upload_factory(filename="page.html", content_type="text/html", status=Upload.Status.COMPLETE)

    link = sharing.upload_share_url(upload=upload, expires_in=3600)

    disposition = parse_qs(urlparse(link.url).query)["response-content-disposition"][0]
    assert disposition.startswith("attachment")


def test_share_lifetimes_offer_the_longest_link_once(settings):
    settings.UPLOADS_URL_MAX_EXPIRATION = 86400

    assert sharing.share_lifetimes() == [(3600, "1 hour"), (86400, "1 day")]
