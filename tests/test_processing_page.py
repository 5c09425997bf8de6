"""The page's rows while and after processing (the worker's results, rendered by the server)."""

import pytest
from django.urls import reverse

from uploads.models import Processing
from uploads.processing.tasks import process_upload

from .processing_helpers import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, user):
    client.force_login(user)
    return lambda: client.get(reverse("uploads:index")).content.decode()


def test_a_row_says_processing_until_its_processing_ends(s3, stored_upload, page):
    stored_upload(png(64, 48), filename="cat.png", content_type="image/png")

    html = page()

    assert "Processing…" in html
    assert "<img" not in html.split('class="thumb"', 1)[1].split("</td>", 1)[0]


def test_a_processed_image_row_shows_its_thumbnail_not_the_original_and_its_dimensions(
    s3, stored_upload, page
):
    upload = stored_upload(png(64, 48), filename="cat.png", content_type="image/png")
    process_upload.apply(args=[str(upload.pk)])

    html = page()

    assert "Processing…" not in html
    assert "/_derived/thumbnail.webp?" in html
    assert "/cat.png?" not in html.split('class="thumb"', 1)[1].split("</td>", 1)[0]
    assert "64×48" in html


def test_a_row_whose_processing_failed_says_why(s3, stored_upload, page):
    upload = stored_upload(b"garbage", filename="cat.png", content_type="image/png")
    process_upload.apply(args=[str(upload.pk)])

    assert "No preview: The image could not be read" in page()


def test_the_list_version_changes_when_processing_ends(s3, stored_upload, user):
    from uploads.listing import upload_list_version

    upload = stored_upload(png(8, 8), filename="a.png", content_type="image/png")
    before = upload_list_version(owner=user)
    process_upload.apply(args=[str(upload.pk)])  # the worker's run, which ends in state.finish

    upload.refresh_from_db()
    assert upload.processing == Processing.DONE
    assert upload_list_version(owner=user) != before


def test_the_upload_fields_widget_shows_the_workers_thumbnail_once_processed(s3, stored_upload):
    from uploads.widgets import _describe

    upload = stored_upload(png(640, 480), filename="cat.png", content_type="image/png")
    process_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()

    assert "/_derived/thumbnail.webp?" in _describe(upload)["thumbnail"]
