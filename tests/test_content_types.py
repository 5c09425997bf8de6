"""Declared content types (uploads/content_types.py): pure functions, no database, no store."""

import uuid

from uploads.content_types import guess_content_type

UPLOAD_ID = uuid.UUID("6f1c1d4e-9a43-4c55-a1c4-1f1f6f0f5b5b")


def test_a_type_is_guessed_from_the_name_or_is_octet_stream():
    assert (guess_content_type("a.PNG"), guess_content_type("README")) == (
        "image/png",
        "application/octet-stream",
    )
