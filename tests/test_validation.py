"""The input rules and naming decisions: pure functions, no database, no store."""

import uuid

import pytest

from uploads.errors import InvalidFilename, InvalidSize, UploadTooLarge
from uploads.validation import (
    acl_for,
    folder_of,
    guess_content_type,
    object_key,
    size_range,
    upload_folder,
    uploads_root,
)

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


def test_private_objects_get_the_configured_acl_and_public_ones_public_read(settings):
    settings.UPLOADS_PRIVATE_ACL = ""  # a bucket with ACLs disabled

    assert (acl_for(False), acl_for(True)) == ("", "public-read")


def test_a_type_is_guessed_from_the_name_or_is_octet_stream():
    assert (guess_content_type("a.PNG"), guess_content_type("README")) == (
        "image/png",
        "application/octet-stream",
    )


def test_a_declared_size_is_pinned_exactly():
    assert size_range(size=123, max_size=None) == (123, 123)


def test_without_a_size_the_policy_allows_one_byte_up_to_the_limit(settings):
    settings.UPLOADS_MAX_FILE_SIZE = 1000

    assert size_range(size=None, max_size=None) == (1, 1000)


def test_a_size_over_the_limit_is_too_large(settings):
    settings.UPLOADS_MAX_FILE_SIZE = 1000

    with pytest.raises(UploadTooLarge):
        size_range(size=1001, max_size=None)


@pytest.mark.parametrize("size", [True, 0, -1, 1.5, "10"])
def test_a_size_must_be_a_positive_integer_and_not_a_boolean(size):
    with pytest.raises(InvalidSize):
        size_range(size=size, max_size=None)


def test_only_a_folder_named_for_the_upload_counts_as_its_own():
    assert folder_of(object_key(UPLOAD_ID, "a.txt"), UPLOAD_ID) == upload_folder(UPLOAD_ID)
    assert folder_of("uploads/a.txt", UPLOAD_ID) is None
