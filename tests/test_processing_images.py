import io

import pytest
from PIL import Image

from uploads.models import Upload
from uploads.processing.tasks import process_upload

from .processing_helpers import png, png_claiming, read_object

pytestmark = pytest.mark.django_db


def process(upload: Upload) -> Upload:
    process_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()
    return upload


def test_an_image_gets_its_dimensions_and_a_webp_thumbnail_in_its_folder(s3, stored_upload):
    upload = process(stored_upload(png(640, 480), filename="cat.png", content_type="image/png"))

    assert upload.processing == "done"
    assert upload.metadata["width"] == 640
    assert upload.metadata["height"] == 480
    assert upload.thumbnail == {
        "key": upload.key.rsplit("/", 1)[0] + "/_derived/thumbnail.webp",
        "width": 256,
        "height": 192,
        "content_type": "image/webp",
    }
    with Image.open(io.BytesIO(read_object(upload.thumbnail["key"]))) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("WEBP", (256, 192))


def test_a_40_megapixel_png_is_processed(s3, stored_upload):
    upload = process(stored_upload(png(8000, 5000, mode="L"), filename="big.png", content_type="image/png"))

    assert upload.processing == "done"
    assert (upload.metadata["width"], upload.metadata["height"]) == (8000, 5000)
    assert (upload.thumbnail["width"], upload.thumbnail["height"]) == (256, 160)


def test_a_decompression_bomb_is_refused_and_the_upload_stays_complete(s3, stored_upload):
    upload = process(
        stored_upload(png_claiming(50_000, 50_000), filename="bomb.png", content_type="image/png")
    )

    assert upload.processing == "failed"
    assert "more pixels than allowed" in upload.processing_error
    assert upload.status == Upload.Status.COMPLETE
    assert upload.thumbnail is None


def test_a_rotated_jpeg_gets_an_upright_thumbnail_without_its_exif(s3, stored_upload):
    # 400 wide, 200 high as stored; EXIF orientation 6 means "turn a quarter right to show".
    photo = Image.new("RGB", (400, 200), "red")
    photo.paste(Image.new("RGB", (200, 200), "blue"), (200, 0))  # the right half is blue
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif)

    upload = process(stored_upload(out.getvalue(), filename="photo.jpg", content_type="image/jpeg"))

    assert (upload.metadata["width"], upload.metadata["height"]) == (200, 400)
    assert upload.metadata["orientation"] == 6
    with Image.open(io.BytesIO(read_object(upload.thumbnail["key"]))) as thumbnail:
        assert thumbnail.size == (128, 256)  # upright: taller than wide
        assert not thumbnail.getexif()
        assert "exif" not in thumbnail.info
        # Turned right, the blue half is at the bottom.
        rgb = thumbnail.convert("RGB")
        assert rgb.getpixel((64, 240))[2] > 200
        assert rgb.getpixel((64, 16))[0] > 200


def test_an_unreadable_image_fails_with_a_reason(s3, stored_upload):
    upload = process(
        stored_upload(b"\x89PNG\r\n\x1a\nnot really", filename="x.png", content_type="image/png")
    )

    assert upload.processing == "failed"
    assert "could not be read" in upload.processing_error
