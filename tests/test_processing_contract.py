"""The API's processing fields: `processing`, `metadata`, `thumbnail` (tasks run eagerly here)."""

import io

import pytest
import requests
from PIL import Image

from .processing_helpers import png

pytestmark = pytest.mark.django_db


def upload_through_the_api(api, post_to_s3, body: bytes, *, filename: str, content_type: str) -> str:
    started = api.post(
        "/api/uploads",
        {"filename": filename, "content_type": content_type, "size": len(body)},
        content_type="application/json",
    ).json()
    post_to_s3(started["url"], started["fields"], body, filename=filename, content_type=content_type)
    return started["id"]


def test_a_completed_image_answers_done_with_its_dimensions_and_a_thumbnail_url(
    s3, api, post_to_s3, django_capture_on_commit_callbacks
):
    upload_id = upload_through_the_api(
        api, post_to_s3, png(640, 480), filename="cat.png", content_type="image/png"
    )
    with django_capture_on_commit_callbacks(execute=True):
        completed = api.post(f"/api/uploads/{upload_id}/complete").json()
    assert completed["processing"] == "queued"  # answered before the worker's turn

    body = api.get(f"/api/uploads/{upload_id}").json()

    assert body["processing"] == "done"
    assert body["metadata"] == {"width": 640, "height": 480}
    thumbnail = body["thumbnail"]
    assert (thumbnail["width"], thumbnail["height"], thumbnail["content_type"]) == (256, 192, "image/webp")
    fetched = requests.get(thumbnail["url"], timeout=10)
    assert fetched.status_code == 200
    with Image.open(io.BytesIO(fetched.content)) as image:
        assert image.format == "WEBP"


def test_a_type_with_nothing_to_process_answers_none_without_metadata_or_thumbnail(
    s3, api, post_to_s3, django_capture_on_commit_callbacks
):
    upload_id = upload_through_the_api(
        api, post_to_s3, b"hello", filename="notes.txt", content_type="text/plain"
    )
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/uploads/{upload_id}/complete")

    body = api.get(f"/api/uploads/{upload_id}").json()

    assert (body["processing"], body["metadata"], body["thumbnail"]) == ("none", {}, None)


def test_the_list_items_carry_the_processing_fields(s3, api, post_to_s3, django_capture_on_commit_callbacks):
    upload_id = upload_through_the_api(
        api, post_to_s3, png(100, 50), filename="a.png", content_type="image/png"
    )
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/uploads/{upload_id}/complete")

    [item] = api.get("/api/uploads").json()["items"]

    assert item["metadata"] == {"width": 100, "height": 50}
    assert (item["thumbnail"]["width"], item["thumbnail"]["height"]) == (100, 50)  # never enlarged
