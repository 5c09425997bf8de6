"""Attacks, each refused. Every case reads as what an attacker tries and what stops it."""

import pytest
import requests

from uploads import services

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.domain)</script>"
SCRIPT_CAPABLE = [
    ("evil.html", "text/html"),
    ("evil.svg", "image/svg+xml"),
    ("evil.xhtml", "application/xhtml+xml"),
    ("evil.xml", "text/xml"),
    ("evil.js", "text/javascript"),
]


# --- Stored XSS through the files we serve ----------------------------------------------------


@pytest.mark.parametrize(("filename", "content_type"), SCRIPT_CAPABLE)
def test_a_script_capable_file_is_never_served_inline(s3, api, user, upload_factory, filename, content_type):
    upload = upload_factory(
        owner=user, filename=filename, content_type=content_type, status="complete", body=SCRIPT
    )

    link = api.get(f"/api/uploads/{upload.pk}/url").json()
    served = requests.get(link["url"], timeout=10)

    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(("filename", "content_type"), SCRIPT_CAPABLE)
def test_a_script_capable_type_added_to_the_inline_setting_is_still_an_attachment(
    s3, upload_factory, settings, filename, content_type
):
    settings.UPLOADS_INLINE_TYPES = ["*/*"]
    upload = upload_factory(filename=filename, content_type=content_type, status="complete", body=SCRIPT)

    served = requests.get(services.upload_download_url(upload=upload).url, timeout=10)

    assert served.headers["Content-Disposition"].startswith("attachment;")


def test_the_storage_url_of_a_script_capable_file_is_an_attachment_too(s3, upload_factory):
    upload = upload_factory(filename="evil.html", content_type="text/html", status="complete", body=SCRIPT)

    served = requests.get(upload.file.url, timeout=10)

    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["Content-Type"] == "application/octet-stream"


def test_the_policy_stores_a_script_capable_file_as_an_attachment(s3, user):
    direct = services.upload_start(owner=user, filename="evil.svg", content_type="image/svg+xml", size=10)

    assert direct.fields["Content-Disposition"].startswith("attachment;")


def test_a_safe_image_is_still_shown_inline(s3, upload_factory):
    upload = upload_factory(filename="cat.png", content_type="image/png", status="complete", body=b"\x89PNG")

    served = requests.get(services.upload_download_url(upload=upload).url, timeout=10)

    assert served.headers["Content-Disposition"].startswith("inline;")
    assert served.headers["Content-Type"] == "image/png"


def test_an_svg_gets_no_thumbnail(upload_factory):
    upload = upload_factory(filename="evil.svg", content_type="image/svg+xml", status="complete")

    assert not upload.is_image
