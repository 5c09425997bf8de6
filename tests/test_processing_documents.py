import io

import pypdfium2 as pdfium
import pytest
from PIL import Image

from uploads.models import Upload
from uploads.processing.tasks import process_upload

from .processing_helpers import ffmpeg, read_object

pytestmark = pytest.mark.django_db


def process(upload: Upload) -> Upload:
    process_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()
    return upload


def three_page_pdf() -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(3):
        document.new_page(595, 842)  # A4 in points
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def test_a_pdf_gets_its_page_count_and_its_first_page_as_thumbnail(s3, stored_upload):
    upload = process(stored_upload(three_page_pdf(), filename="report.pdf", content_type="application/pdf"))

    assert upload.processing == "done"
    assert upload.metadata == {"pages": 3}
    with Image.open(io.BytesIO(read_object(upload.thumbnail["key"]))) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.height == 256
        assert thumbnail.width == round(256 * 595 / 842)


def test_a_short_wav_gets_its_duration_and_no_thumbnail(s3, stored_upload, tmp_path):
    wav = ffmpeg(tmp_path, "tone.wav", "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5")

    upload = process(stored_upload(wav, filename="tone.wav", content_type="audio/wav"))

    assert upload.processing == "done"
    assert upload.metadata == {"duration": pytest.approx(1.5, abs=0.05)}
    assert upload.thumbnail is None


def test_a_short_mp4_gets_duration_dimensions_and_a_frame(s3, stored_upload, tmp_path):
    mp4 = ffmpeg(
        tmp_path, "clip.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=2",
        "-pix_fmt", "yuv420p", "-c:v", "libx264",
    )  # fmt: skip

    upload = process(stored_upload(mp4, filename="clip.mp4", content_type="video/mp4"))

    assert upload.processing == "done"
    assert upload.metadata["duration"] == pytest.approx(2.0, abs=0.1)
    assert (upload.metadata["width"], upload.metadata["height"]) == (320, 240)
    assert (upload.thumbnail["width"], upload.thumbnail["height"]) == (256, 192)


def test_a_file_that_is_not_media_fails_with_a_reason(s3, stored_upload):
    upload = process(stored_upload(b"not a video at all", filename="x.mp4", content_type="video/mp4"))

    assert upload.processing == "failed"
    assert upload.processing_error == "ffprobe could not read the file."
