"""Names and object keys (uploads/keys.py): pure functions, no database, no store."""

import uuid

import pytest

from uploads.errors import InvalidFilename
from uploads.keys import folder_of, object_key, upload_folder, uploads_root

UPLOAD_ID = uuid.UUID("6f1c1d4e-9a43-4c55-a1c4-1f1f6f0f5b5b")


def test_object_key_is_the_root_the_upload_id_and_an_ascii_name(settings):
    settings.UPLOADS_KEY_PREFIX = "files"

    assert object_key(UPLOAD_ID, "Prüfung 2024.pdf") == f"files/{UPLOAD_ID}/Prufung-2024.pdf"


def test_a_callers_prefix_nests_under_the_uploads_root():
    assert upload_folder(UPLOAD_ID, prefix="avatars") == f"{uploads_root()}avatars/{UPLOAD_ID}/"


def test_a_prefix_already_under_the_uploads_root_is_kept_as_it_is():
    folder = upload_folder(UPLOAD_ID, prefix=f"{uploads_root()}images")

    assert folder == f"{uploads_root()}images/{UPLOAD_ID}/"


def test_a_prefix_with_dot_segments_is_refused():
    with pytest.raises(InvalidFilename):
        upload_folder(UPLOAD_ID, prefix="a/../../etc")


def test_only_a_folder_named_for_the_upload_counts_as_its_own():
    assert folder_of(object_key(UPLOAD_ID, "a.txt"), UPLOAD_ID) == upload_folder(UPLOAD_ID)
    assert folder_of("uploads/a.txt", UPLOAD_ID) is None
